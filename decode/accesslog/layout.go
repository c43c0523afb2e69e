package accesslog

import (
	"fmt"
	"strings"
)

// Named layouts: what a source may give instead of a format string.
// common and combined are httpd.conf's; vhost_combined is Debian's
// apache2.conf (the Apache layout most servers run); main is nginx.conf's.
var named = map[string]string{
	"common":         `%h %l %u %t "%r" %>s %b`,
	"combined":       `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`,
	"vhost_common":   `%v %h %l %u %t "%r" %>s %b`,
	"vhost_combined": `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`,
	"combinedio":     `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O`,
	"main":           `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`,
	"nginx_combined": `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`,
}

// fieldContentType is the request's Content-Type, as SigmaHQ's webserver
// rules name it.
var fieldContentType = []byte("cs-content-type")

// Layouts lists the named layouts, for docs and errors.
func Layouts() []string {
	return []string{"combined", "combinedio", "common", "main", "nginx_combined", "vhost_combined", "vhost_common"}
}

// role is what a layout's value means to the decoder beyond its field
// name: the parts that make the common fields and the time.
type role uint8

const (
	roleOther      role = iota
	roleClient          // %h %a $remote_addr
	roleIdent           // %l
	roleUser            // %u $remote_user
	roleTime            // %t: "[10/Oct/2000:13:55:36 -0700]" with its brackets
	roleTimeBare        // $time_local: the same stamp without brackets
	roleTimeISO         // $time_iso8601, %{%Y-%m-%dT%H:%M:%S%z}t
	roleTimeSec         // %{sec}t, $msec (seconds with a fraction)
	roleTimeMsec        // %{msec}t
	roleTimeUsec        // %{usec}t
	roleRequest         // %r $request
	roleMethod          // %m $request_method
	roleTarget          // $request_uri: path and query
	rolePath            // %U $uri
	roleQuery           // %q ("?a=b") $args $query_string ("a=b")
	roleProto           // %H $server_protocol
	roleStatus          // %>s %s $status
	roleBytes           // %O $bytes_sent: the response with its headers
	roleBodyBytes       // %b %B $body_bytes_sent
	roleAgent           // %{User-Agent}i $http_user_agent
	roleHost            // %v %V $server_name $host %{Host}i $http_host
	roleServerPort      // %p $server_port
	roleClientPort      // %{remote}p $remote_port
	roleServerIP        // %A $server_addr
)

// item is one value of a layout and the literal text in front of it.
type item struct {
	lit    string
	name   []byte // field name; nil: the value is read and not kept
	role   role
	quoted bool // the value is between double quotes: \" inside is escaped
	stop   string
}

// layout is a compiled LogFormat or log_format: values and the literals
// between them, and what comes after the last value.
type layout struct {
	items   []item
	tail    string
	service string // apache or nginx: how the layout was written
	// hasTarget: $request_uri is logged, as cs-uri-query already.
	hasTarget bool
}

// compileLayout compiles a named layout, an Apache LogFormat string (%h
// %l …) or an nginx log_format string ($remote_addr …).
func compileLayout(spec string) (*layout, error) {
	if s, ok := named[spec]; ok {
		spec = s
	}
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty layout")
	}
	var l *layout
	var err error
	if strings.Contains(spec, "%") && !strings.Contains(spec, "$") {
		l, err = compileApache(spec)
	} else if strings.Contains(spec, "$") {
		l, err = compileNginx(spec)
	} else {
		return nil, fmt.Errorf("layout %q is neither a named layout (%s) nor an Apache LogFormat (%%h …) or nginx log_format ($remote_addr …)", spec, strings.Join(Layouts(), ", "))
	}
	if err != nil {
		return nil, err
	}
	for i := range l.items {
		it := &l.items[i]
		next := l.tail
		if i+1 < len(l.items) {
			next = l.items[i+1].lit
		}
		it.quoted = strings.HasSuffix(it.lit, `"`) && strings.HasPrefix(next, `"`)
		if i > 0 && it.lit == "" && l.items[i-1].role != roleTime && it.role != roleTime && !(l.items[i-1].role == rolePath && it.role == roleQuery) {
			return nil, fmt.Errorf("layout: value %d follows value %d with nothing between: they cannot be told apart", i+1, i)
		}
		// A value ends where the literal after it starts; before a
		// bracketed time, at the literal and the bracket, so that a user
		// name may hold the literal (a space).
		it.stop = next
		if i+1 < len(l.items) && l.items[i+1].role == roleTime {
			it.stop += "["
		}
		if it.role == roleTarget {
			l.hasTarget = true
		}
	}
	return l, nil
}

// compileApache reads mod_log_config's format string: %% is a percent,
// %X a directive, with optional < or > (original or final request), status
// conditions (%400,501{…}i, %!200{…}i) and a {argument}.
func compileApache(spec string) (*layout, error) {
	l := &layout{service: "apache"}
	var lit strings.Builder
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c == '\\' && i+1 < len(spec) {
			// Escapes the config file parser leaves to mod_log_config.
			i++
			switch spec[i] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte(spec[i])
			}
			continue
		}
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		start := i
		i++
		if i < len(spec) && spec[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		// < and > pick the original or final request of a redirect (%s
		// and %>s both give a status); the digits are status conditions.
		for i < len(spec) && strings.IndexByte("<>!,0123456789", spec[i]) >= 0 {
			i++
		}
		arg := ""
		if i < len(spec) && spec[i] == '{' {
			j := strings.IndexByte(spec[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("layout: %%{ at byte %d has no }", start)
			}
			arg, i = spec[i+1:i+j], i+j+1
		}
		if i >= len(spec) {
			return nil, fmt.Errorf("layout: %% at byte %d ends the format", start)
		}
		d := spec[i]
		if d == '^' && i+2 < len(spec) {
			i += 2 // %{…}^ti, %{…}^to: trailers
		}
		name, r, ok := apacheDirective(d, arg)
		if !ok {
			return nil, fmt.Errorf("layout: unknown directive %s at byte %d", spec[start:i+1], start)
		}
		l.items = append(l.items, item{lit: lit.String(), name: name, role: r})
		lit.Reset()
	}
	l.tail = lit.String()
	if len(l.items) == 0 {
		return nil, fmt.Errorf("layout: no %% directive")
	}
	return l, nil
}

// apacheDirective names what directive d (with its argument) logs.
func apacheDirective(d byte, arg string) ([]byte, role, bool) {
	switch d {
	case 'h', 'a':
		if d == 'a' && arg == "c" {
			return []byte("c-peer-ip"), roleOther, true
		}
		return fieldClient, roleClient, true
	case 'A':
		return []byte("s-ip"), roleServerIP, true
	case 'l':
		return fieldIdent, roleIdent, true
	case 'u':
		return fieldUser, roleUser, true
	case 't':
		switch {
		case arg == "":
			return nil, roleTime, true
		case arg == "sec" || arg == "begin:sec" || arg == "end:sec":
			return nil, roleTimeSec, true
		case arg == "msec" || arg == "begin:msec" || arg == "end:msec":
			return nil, roleTimeMsec, true
		case arg == "usec" || arg == "begin:usec" || arg == "end:usec":
			return nil, roleTimeUsec, true
		case strings.TrimPrefix(strings.TrimPrefix(arg, "begin:"), "end:") == "%Y-%m-%dT%H:%M:%S%z":
			return nil, roleTimeISO, true
		}
		// Another strftime layout: kept as written, not read as the time.
		return []byte("time"), roleOther, true
	case 'r':
		return fieldRequest, roleRequest, true
	case 'm':
		return fieldMethod, roleMethod, true
	case 'U':
		return fieldURIStem, rolePath, true
	case 'q':
		return nil, roleQuery, true // url.query, without its "?"
	case 'H':
		return fieldVersion, roleProto, true
	case 's':
		return fieldStatus, roleStatus, true
	case 'b', 'B':
		return fieldBytes, roleBodyBytes, true
	case 'O':
		return fieldBytes, roleBytes, true
	case 'I':
		return []byte("cs-bytes"), roleOther, true
	case 'S':
		return []byte("bytes"), roleOther, true
	case 'D':
		return []byte("time-taken-us"), roleOther, true
	case 'T':
		return []byte("time-taken-s"), roleOther, true
	case 'v', 'V':
		return fieldHost, roleHost, true
	case 'p':
		switch arg {
		case "remote":
			return []byte("c-port"), roleClientPort, true
		default:
			return []byte("s-port"), roleServerPort, true
		}
	case 'P':
		return []byte("s-pid"), roleOther, true
	case 'X':
		return []byte("connection-status"), roleOther, true
	case 'k':
		return []byte("keepalive-requests"), roleOther, true
	case 'L':
		return []byte("log-id"), roleOther, true
	case 'f':
		return []byte("file.path"), roleOther, true
	case 'R':
		return []byte("handler"), roleOther, true
	case 'i':
		switch strings.ToLower(arg) {
		case "user-agent":
			return fieldUserAgent, roleAgent, true
		case "referer", "referrer":
			return fieldReferer, roleOther, true
		case "host":
			return fieldHost, roleHost, true
		case "content-type":
			return fieldContentType, roleOther, true
		case "":
			return nil, roleOther, false
		}
		return []byte("cs(" + arg + ")"), roleOther, true
	case 'o':
		return []byte("sc(" + arg + ")"), roleOther, true
	case 'C':
		return []byte("cookie(" + arg + ")"), roleOther, true
	case 'e':
		return []byte("env(" + arg + ")"), roleOther, true
	case 'n':
		return []byte("note(" + arg + ")"), roleOther, true
	case 'x':
		return []byte(arg), roleOther, true
	case '^':
		return []byte("trailer(" + arg + ")"), roleOther, true
	}
	return nil, roleOther, false
}

// compileNginx reads ngx_http_log_module's format: $name or ${name}
// variables and literal text.
func compileNginx(spec string) (*layout, error) {
	l := &layout{service: "nginx"}
	var lit strings.Builder
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c != '$' {
			lit.WriteByte(c)
			continue
		}
		start := i
		i++
		var v string
		if i < len(spec) && spec[i] == '{' {
			j := strings.IndexByte(spec[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("layout: ${ at byte %d has no }", start)
			}
			v, i = spec[i+1:i+j], i+j
		} else {
			j := i
			for j < len(spec) && (spec[j] == '_' || spec[j] >= 'a' && spec[j] <= 'z' || spec[j] >= 'A' && spec[j] <= 'Z' || spec[j] >= '0' && spec[j] <= '9') {
				j++
			}
			v, i = spec[i:j], j-1
		}
		if v == "" {
			return nil, fmt.Errorf("layout: $ at byte %d names no variable", start)
		}
		name, r := nginxVariable(v)
		l.items = append(l.items, item{lit: lit.String(), name: name, role: r})
		lit.Reset()
	}
	l.tail = lit.String()
	if len(l.items) == 0 {
		return nil, fmt.Errorf("layout: no $variable")
	}
	return l, nil
}

// nginxVariable names what variable v logs: the W3C name Sigma reads where
// there is one, else the variable's own name.
func nginxVariable(v string) ([]byte, role) {
	switch v {
	case "remote_addr", "realip_remote_addr", "binary_remote_addr":
		return fieldClient, roleClient
	case "remote_user":
		return fieldUser, roleUser
	case "time_local":
		return nil, roleTimeBare
	case "time_iso8601":
		return nil, roleTimeISO
	case "msec":
		return nil, roleTimeSec
	case "request":
		return fieldRequest, roleRequest
	case "request_method":
		return fieldMethod, roleMethod
	case "request_uri":
		return fieldURIQuery, roleTarget
	case "uri", "document_uri":
		return fieldURIStem, rolePath
	case "args", "query_string":
		return nil, roleQuery
	case "server_protocol":
		return fieldVersion, roleProto
	case "status":
		return fieldStatus, roleStatus
	case "body_bytes_sent":
		return fieldBytes, roleBodyBytes
	case "bytes_sent":
		return fieldBytes, roleBytes
	case "content_type", "http_content_type":
		return fieldContentType, roleOther
	case "request_length":
		return []byte("cs-bytes"), roleOther
	case "http_referer":
		return fieldReferer, roleOther
	case "http_user_agent":
		return fieldUserAgent, roleAgent
	case "host", "http_host", "server_name":
		return fieldHost, roleHost
	case "server_port":
		return []byte("s-port"), roleServerPort
	case "remote_port":
		return []byte("c-port"), roleClientPort
	case "server_addr":
		return []byte("s-ip"), roleServerIP
	}
	return []byte(v), roleOther
}
