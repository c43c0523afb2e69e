package intel

// Punycode (RFC 3492) encoding of one label, for the IDNA "xn--" form of
// non-ASCII domain names. Written from the RFC's section 6.3 pseudocode;
// only encoding is needed, since indicators and events are compared in
// their ASCII form.

const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// appendPunycode appends the punycode of runes (without the "xn--"
// prefix); false on overflow.
func appendPunycode(dst []byte, runes []rune) ([]byte, bool) {
	basic := 0
	for _, r := range runes {
		if r < 0x80 {
			dst = append(dst, byte(r))
			basic++
		}
	}
	if basic > 0 {
		dst = append(dst, '-')
	}
	n, delta, bias := rune(pcInitialN), int64(0), pcInitialBias
	for h := basic; h < len(runes); {
		m := rune(0x7fffffff)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int64(m-n) * int64(h+1)
		if delta > 1<<40 {
			return dst, false
		}
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := int(delta)
			for k := pcBase; ; k += pcBase {
				t := k - bias
				if t < pcTMin {
					t = pcTMin
				} else if t > pcTMax {
					t = pcTMax
				}
				if q < t {
					break
				}
				dst = append(dst, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			dst = append(dst, pcDigit(q))
			bias = pcAdapt(int(delta), h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return dst, true
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
