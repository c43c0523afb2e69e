package nsgflow

// subscription returns the subscription id of an Azure resource id
// ("/SUBSCRIPTIONS/<id>/RESOURCEGROUPS/…": flow logs write it in upper
// case), or "". The result is a slice of id.
func subscription(id string) string {
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
