// Package azure reads what Azure's logs have in common, whatever the
// service that wrote them: resource ids.
package azure

// Subscription returns the subscription id of an Azure resource id
// ("/subscriptions/<id>/resourceGroups/…"; flow logs and some activity
// logs write it in upper case), or "" when the id names none. It does not
// allocate: the result is a slice of id.
func Subscription(id string) string {
	const seg = "/subscriptions/"
	if len(id) < len(seg) {
		return ""
	}
	for i := 0; i < len(seg); i++ {
		c := id[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != seg[i] {
			return ""
		}
	}
	rest := id[len(seg):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}
