package llamaguard

// Category is one of Llama Guard 3's hazard categories: its code (S1…S14)
// and the name its prompt gives it.
type Category struct {
	Code string
	Name string
}

// Categories are Llama Guard 3's fourteen categories, as its model card's
// prompt lists them.
var Categories = []Category{
	{"S1", "Violent Crimes"},
	{"S2", "Non-Violent Crimes"},
	{"S3", "Sex Crimes"},
	{"S4", "Child Exploitation"},
	{"S5", "Defamation"},
	{"S6", "Specialized Advice"},
	{"S7", "Privacy"},
	{"S8", "Intellectual Property"},
	{"S9", "Indiscriminate Weapons"},
	{"S10", "Hate"},
	{"S11", "Self-Harm"},
	{"S12", "Sexual Content"},
	{"S13", "Elections"},
	{"S14", "Code Interpreter Abuse"},
}

// categoryName returns the name of code, "" for an unknown code.
func categoryName(code string) string {
	for _, c := range Categories {
		if c.Code == code {
			return c.Name
		}
	}
	return ""
}
