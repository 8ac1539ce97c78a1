// Package llamaguard is the built-in llama_guard plugin kind: it asks a
// Llama Guard 3 model, served behind an OpenAI-compatible chat completions
// endpoint (vLLM, Ollama, TGI), whether the text of prompt and tool
// arguments (the User's message) and of results (the Agent's message) is
// safe, and blocks what it calls unsafe in the categories the policy
// selects.
//
// It builds the prompt of Meta's Llama Guard 3 model card (or, with
// prompt: chat_template, leaves that to the server's chat template) and
// reads the model's "safe" / "unsafe\nS1,S2" answer. It does not rewrite
// text. Its client is plugins/internal/outbound. Importing the package
// registers the kind.
package llamaguard
