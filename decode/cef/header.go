package cef

import "github.com/vigil-sec/vigil/decode"

// header reads "Version|Vendor|Product|Version|SignatureID|Name|Severity|"
// from line[i:] into head and returns where the extension starts. In the
// header a pipe or a backslash is escaped with a backslash.
func (d *Decoder) header(line string, i int, head *[7]string) (int, error) {
	for i < len(line) && line[i] == ' ' { // "CEF: 0|" (Barracuda)
		i++
	}
	v := i
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == v || i >= len(line) || line[i] != '|' {
		return 0, &decode.Error{Format: Format, Offset: v, Field: "cefVersion", Reason: "CEF version is not a number followed by |"}
	}
	head[0] = line[v:i]
	i++
	for n := 1; n < 7; n++ {
		s, esc := i, false
		for i < len(line) && line[i] != '|' {
			if line[i] == '\\' && i+1 < len(line) {
				esc = true
				i++
			}
			i++
		}
		if i >= len(line) {
			return 0, &decode.Error{Format: Format, Offset: len(line), Field: string(headerNames[n]),
				Reason: "header ends before its seven |-separated fields"}
		}
		head[n] = line[s:i]
		if esc {
			head[n] = d.unescape(head[n], false)
		}
		i++
	}
	return i, nil
}
