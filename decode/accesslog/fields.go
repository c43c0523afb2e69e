package accesslog

import (
	"strings"

	"github.com/vigil-sec/vigil/decode/internal/addr"
	"github.com/vigil-sec/vigil/event"
)

// fill stores the line's fields and its common fields. A "-" (Apache's
// "none") is no value.
func (l *line) fill(ev *event.Event) {
	ev.Time = l.time
	ev.Logsource = event.Logsource{Category: "webserver"}
	f, c := &ev.Fields, &ev.Common
	set := func(name []byte, v string) {
		if v != "" && v != "-" {
			f.SetName(name, v)
		}
	}
	set(fieldHost, l.vhost)
	set(fieldClient, l.client)
	set(fieldIdent, l.ident)
	set(fieldUser, l.user)
	set(fieldRequest, l.request)
	set(fieldMethod, l.method)
	// SigmaHQ's webserver rules look for paths and queries alike in
	// cs-uri-query, so it holds the whole request target; cs-uri-stem is
	// the path.
	path := l.target
	if j := strings.IndexByte(path, '?'); j >= 0 {
		path = path[:j]
	}
	set(fieldURIQuery, l.target)
	set(fieldURIStem, path)
	set(fieldVersion, l.proto)
	set(fieldStatus, l.status)
	set(fieldBytes, l.bytes)
	set(fieldReferer, l.referer)
	set(fieldUserAgent, l.agent)

	if addr.IsIP(l.client) {
		c[event.SourceIP] = l.client
	}
	if l.user != "-" {
		c[event.UserName] = l.user
	}
	if l.vhost != "-" {
		// Debian's vhost_combined writes "%v:%p": the port is the
		// server's, not the domain's.
		host := l.vhost
		if j := strings.LastIndexByte(host, ':'); j > 0 && addr.IsPort(host[j+1:]) && !strings.Contains(host[:j], ":") {
			host = host[:j]
			c[event.DestinationPort] = l.vhost[j+1:]
		}
		c[event.URLDomain] = host
	}
	c[event.HTTPRequestMethod] = l.method
	c[event.URLOriginal] = l.target
	c[event.URLPath] = path
	c[event.HTTPResponseStatusCode] = l.status
	if l.agent != "-" {
		c[event.UserAgentOriginal] = l.agent
	}
	c[event.EventCategory] = "web"
	// ECS: a response the server counts as an error (4xx, 5xx) is a
	// failure.
	if l.status[0] >= '4' {
		c[event.EventOutcome] = "failure"
	} else {
		c[event.EventOutcome] = "success"
	}
}
