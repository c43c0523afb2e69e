package azure

import "testing"

func TestSubscription(t *testing.T) {
	for id, want := range map[string]string{
		"/subscriptions/abc/resourceGroups/rg/providers/x": "abc",
		"/SUBSCRIPTIONS/ABC/RESOURCEGROUPS/RG":             "ABC",
		"/subscriptions/abc":                               "abc",
		"/subscriptions/":                                  "",
		"/subscription/abc":                                "",
		"":                                                 "",
		"Microsoft.Authorization":                          "",
	} {
		if got := Subscription(id); got != want {
			t.Errorf("Subscription(%q) = %q, want %q", id, got, want)
		}
	}
}
