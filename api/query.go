package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Unknown query parameters are refused (a typo must not silently widen a
// filter), by name and value and with the nearest parameter the route
// takes: huma's own check says neither.

// queryParams names the query parameters of op, in its order.
func queryParams(op *huma.Operation) []string {
	var names []string
	for _, p := range op.Parameters {
		if p != nil && p.In == "query" {
			names = append(names, p.Name)
		}
	}
	return names
}

// rejectUnknownQuery is the check for huma's operations, as a middleware.
func rejectUnknownQuery(h huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		u := ctx.URL()
		detail, errs := unknownQuery(u.Query(), queryParams(ctx.Operation()))
		if errs == nil {
			next(ctx)
			return
		}
		list := make([]error, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		huma.WriteErr(h, ctx, http.StatusUnprocessableEntity, detail, list...)
	}
}

// rejectUnknownQueryHTTP is the check for a route mounted as a plain
// handler (ingest), with the parameters its operation describes.
func rejectUnknownQueryHTTP(known []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		detail, errs := unknownQuery(r.URL.Query(), known)
		if errs == nil {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusUnprocessableEntity, detail, errs...)
	})
}

// unknownQuery returns the problem's detail and one error detail for each
// parameter of q that is not in known; none when all are known.
func unknownQuery(q url.Values, known []string) (string, []*huma.ErrorDetail) {
	var names []string
	for name := range q {
		if !slices.Contains(known, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	slices.Sort(names)
	takes := "this route takes no query parameters"
	if len(known) > 0 {
		takes = "this route takes " + strings.Join(known, ", ")
	}
	var (
		errs   []*huma.ErrorDetail
		shown  []string
		unsure bool // some name has no close match: list the known ones
	)
	for _, name := range names {
		value := shortValue(strings.Join(q[name], ","))
		s := name
		if value != "" {
			s += "=" + value
		}
		e := &huma.ErrorDetail{Location: "query." + name, Message: "unknown parameter; " + takes}
		if value != "" {
			e.Value = value
		}
		if m := closest(name, known); m != "" {
			e.Message = "unknown parameter; did you mean " + m + "?"
			if len(names) == 1 {
				s += "; did you mean " + m + "?"
			} else {
				s += " (did you mean " + m + "?)"
			}
		} else {
			unsure = true
		}
		errs = append(errs, e)
		shown = append(shown, s)
	}
	detail := "unknown parameter " + shown[0]
	if len(names) > 1 {
		detail = "unknown parameters " + strings.Join(shown, ", ")
	}
	if unsure {
		detail += "; " + takes
	}
	return detail, errs
}

// shortValue cuts a value echoed in an answer to a readable length.
func shortValue(v string) string {
	const max = 64
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8Start(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// closest returns the known name nearest to name — by edit distance,
// ignoring case, at most a third of the known name's length (and at least
// one) — or one that name begins or that begins name; "" when none is
// close.
func closest(name string, known []string) string {
	n := strings.ToLower(name)
	best, bestD := "", -1
	for _, k := range known {
		lk := strings.ToLower(k)
		d := editDistance(n, lk)
		if d > max(1, min(2, len(lk)/3)) {
			if len(n) >= 3 && (strings.HasPrefix(lk, n) || strings.HasPrefix(n, lk)) {
				d = len(lk) // a prefix: close, but after any typo match
			} else {
				continue
			}
		}
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
