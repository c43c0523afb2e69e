package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// funcs are the template functions every page may use.
func funcs() template.FuncMap {
	return template.FuncMap{
		"ago":      ago,
		"ts":       timestamp,
		"num":      num,
		"sevClass": sevClass,
		"title":    titleCase,
		"join":     strings.Join,
		"lower":    strings.ToLower,
		"with1":    withQuery,
		"dict":     dict,
		"pct":      pct,
		"add":      func(a, b int) int { return a + b },
		"pager":    pager,
		"chart":    timeChart,
		"worldMap": worldMap,
		"entShort": shortEntities,
		"verdict":  classificationLabel,
	}
}

// ago says how long before now t was, in the largest whole unit.
func ago(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		s = strconv.Itoa(int(d/(24*time.Hour))) + " d"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// timestamp is t in UTC to the second, as the API writes it but readable.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// num writes n with thin groups of three digits.
func num(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case int32:
		n = int64(x)
	case uint64:
		n = int64(x)
	case float64:
		n = int64(x)
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// sevClass is the CSS class of a severity (sev-critical … sev-info).
func sevClass(sev string) string {
	switch strings.ToLower(sev) {
	case "critical", "high", "medium", "low", "informational", "info":
		return "sev-" + strings.ToLower(strings.TrimSuffix(strings.ToLower(sev), "rmational"))
	}
	return "sev-unknown"
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// withQuery returns u with key set to value (removed when value is
// empty), and without the cursor: a new filter starts at the first page.
func withQuery(u *url.URL, key, value string) string {
	q := u.Query()
	if key != "cursor" {
		q.Del("cursor")
	}
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	out := url.URL{Path: u.Path, RawQuery: q.Encode()}
	return out.String()
}

// dict builds a map for passing several values to a partial template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// pct is part of whole in percent, for bar widths.
func pct(part, whole any) float64 {
	p, w := toFloat(part), toFloat(whole)
	if w <= 0 {
		return 0
	}
	return 100 * p / w
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// Pager is a list's paging line: how many of how many, and the links.
type Pager struct {
	Shown int
	Total int
	// Next is the URL of the next page; empty on the last.
	Next string
	// First is the URL of the first page; empty on it.
	First string
}

// pager builds the Pager of a list page from the API's next cursor.
func pager(u *url.URL, shown, total int, next string) Pager {
	p := Pager{Shown: shown, Total: total}
	if next != "" {
		p.Next = withQuery(u, "cursor", next)
	}
	if u.Query().Get("cursor") != "" {
		p.First = withQuery(u, "cursor", "")
	}
	return p
}

// offsetPage is the page of list, size long, at the offset the query
// parameter param gives (the first page when it is missing or out of
// range), with its pager, whose links come back to the anchor: for lists
// the API answers whole, shown a part at a time.
func offsetPage[T any](u *url.URL, list []T, param string, size int, anchor string) ([]T, int, Pager) {
	from, _ := strconv.Atoi(u.Query().Get(param))
	if from < 0 || from >= len(list) {
		from = 0
	}
	to := min(from+size, len(list))
	p := Pager{Shown: to - from, Total: len(list)}
	if anchor != "" {
		anchor = "#" + anchor
	}
	if to < len(list) {
		p.Next = withQuery(u, param, strconv.Itoa(to)) + anchor
	}
	if from > 0 {
		p.First = withQuery(u, param, "") + anchor
	}
	return list[from:to], from, p
}

// listPageSize is how many rows a page shows of a list the API answers
// whole (sources, databases, rules, feeds, assets).
const listPageSize = 50
