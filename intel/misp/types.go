package misp

import (
	"strings"

	"github.com/vigil-sec/vigil/intel"
	"github.com/vigil-sec/vigil/intel/internal/observable"
)

type observed struct {
	kind  intel.Kind
	value string
}

// observables reads an attribute's value by its MISP type. supported is
// false for types vigil does not match (filename, regkey, imphash…);
// composite types (domain|ip, filename|sha256, ip-dst|port) give the
// parts vigil matches.
func observables(typ, value string) (vals []observed, supported bool, err error) {
	one := func(k intel.Kind, v string) ([]observed, bool, error) {
		k, n, err := observable.Normalize(k, v)
		if err != nil {
			return nil, true, err
		}
		return []observed{{k, n}}, true, nil
	}
	left, right, composite := strings.Cut(value, "|")
	switch typ {
	case "ip-src", "ip-dst":
		return one(intel.KindIP, value)
	case "ip-src|port", "ip-dst|port":
		// The port follows the last '|'.
		i := strings.LastIndexByte(value, '|')
		if i < 0 {
			return one(intel.KindIP, value)
		}
		return one(intel.KindIP, value[:i])
	case "domain", "hostname":
		return one(intel.KindDomain, value)
	case "hostname|port":
		return one(intel.KindDomain, left)
	case "domain|ip":
		if !composite {
			return one(intel.KindDomain, value)
		}
		d, _, err := one(intel.KindDomain, left)
		if err != nil {
			return nil, true, err
		}
		ip, _, err := one(intel.KindIP, right)
		if err != nil {
			return nil, true, err
		}
		return append(d, ip...), true, nil
	case "url":
		return one(intel.KindURL, value)
	case "md5":
		return one(intel.KindMD5, value)
	case "sha1":
		return one(intel.KindSHA1, value)
	case "sha256":
		return one(intel.KindSHA256, value)
	case "filename|md5", "malware-sample":
		return one(intel.KindMD5, right)
	case "filename|sha1":
		return one(intel.KindSHA1, right)
	case "filename|sha256":
		return one(intel.KindSHA256, right)
	case "email", "email-src", "email-dst", "email-reply-to", "whois-registrant-email":
		return one(intel.KindEmail, value)
	case "user-agent":
		return one(intel.KindUserAgent, value)
	}
	return nil, false, nil
}
