package urlreputation

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// maxDomainFile bounds a blocklist file, so that a wrong path (a disk
// image, a log) fails the load instead of exhausting memory.
const maxDomainFile = 256 << 20

// hostsBoilerplate are the names every hosts file maps to itself; a hosts
// file used as a blocklist does not mean to block them.
var hostsBoilerplate = map[string]bool{
	"localhost": true, "localhost.localdomain": true, "local": true, "broadcasthost": true,
	"ip6-localhost": true, "ip6-loopback": true, "ip6-localnet": true, "ip6-mcastprefix": true,
	"ip6-allnodes": true, "ip6-allrouters": true, "ip6-allhosts": true, "0.0.0.0": true,
}

// loadDomainFile adds the domains of a file to set, each tagged with list.
// A line holds one domain (or IP address), a hosts-file entry ("0.0.0.0
// evil.com", its names taken), or an adblock domain rule ("||evil.com^");
// '#' starts a comment. An entry that is not a host is an error naming the
// line.
func loadDomainFile(path string, set domainSet, list string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxDomainFile {
		return fmt.Errorf("%s: %d bytes, more than the %d a domain list may have", path, st.Size(), maxDomainFile)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		var names []string
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 1:
			names = []string{strings.TrimSuffix(strings.TrimPrefix(fields[0], "||"), "^")}
		default:
			if _, err := netip.ParseAddr(fields[0]); err != nil {
				return fmt.Errorf("%s:%d: expected one domain, or a hosts-file line (an address, then names)", path, n)
			}
			for _, name := range fields[1:] {
				if !hostsBoilerplate[strings.ToLower(name)] {
					names = append(names, name)
				}
			}
		}
		for _, name := range names {
			h, err := domainRule(name)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", path, n, err)
			}
			set[h] = list
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
