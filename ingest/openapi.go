package ingest

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// Operation describes the endpoint for the API's OpenAPI document. The
// handler is mounted as a plain http.Handler (it streams and frames bodies
// itself), so the API adds this description with OpenAPI.AddOperation.
func Operation() huma.Operation {
	str := func(desc string) *huma.Schema { return &huma.Schema{Type: "string", Description: desc} }
	integer := func(desc string) *huma.Schema { return &huma.Schema{Type: "integer", Description: desc} }
	one := 1
	rejection := &huma.Schema{
		Type:     "object",
		Required: []string{"line", "reason"},
		Properties: map[string]*huma.Schema{
			"line":   integer("1-based line of the record in the body; for a JSON array or envelope, its 1-based index"),
			"reason": str("why the record was rejected, e.g. \"invalid JSON: unexpected '}' where a value was expected at byte 17\""),
		},
	}
	rejected := &huma.Schema{Type: "array", Items: rejection, Description: "rejected records, at most " + strconv.Itoa(MaxListedRejections) + " listed"}
	reply := &huma.Schema{
		Type:     "object",
		Required: []string{"accepted", "rejected", "rejected_count", "batches"},
		Properties: map[string]*huma.Schema{
			"accepted":       integer("records stored on the bus"),
			"rejected":       rejected,
			"rejected_count": integer("all rejected records, listed or not"),
			"batches":        integer("bus batches the records went in"),
		},
	}
	errReply := &huma.Schema{
		Type:        "object",
		Description: "an RFC 9457 problem document, the API's error shape, with ingest's own members as extensions",
		Required:    []string{"title", "status", "detail"},
		Properties: map[string]*huma.Schema{
			"type":           str("a URI reference naming the problem; absent, it is about:blank"),
			"title":          str("the status's text, e.g. \"Unprocessable Entity\""),
			"status":         integer("the HTTP status"),
			"detail":         str("what is wrong and how to fix it"),
			"formats":        &huma.Schema{Type: "array", Items: str(""), Description: "known formats, when the format was the problem"},
			"rejected":       rejected,
			"rejected_count": integer("all rejected records, when every record was rejected or publishing failed"),
			"accepted":       integer("records that passed the checks, when publishing failed"),
			"stored":         integer("of those, records stored before publishing failed"),
		},
	}
	errContent := map[string]*huma.MediaType{problemType: {Schema: errReply}}
	retryAfter := map[string]*huma.Param{"Retry-After": {
		Description: "seconds to wait before retrying",
		Schema:      &huma.Schema{Type: "integer", Minimum: ptr(1.0)},
	}}
	errResp := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Content: errContent}
	}
	retryResp := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Headers: retryAfter, Content: errContent}
	}

	object := &huma.Schema{Type: "object", Description: "one record; any JSON object", AdditionalProperties: true}
	return huma.Operation{
		OperationID: "ingest",
		Method:      http.MethodPost,
		Path:        Path,
		Tags:        []string{"ingest"},
		Summary:     "Send records",
		Description: "Frames the body into records, checks each (UTF-8, JSON, sizes) and stores the good ones " +
			"on the bus in batches; replies once all are stored. A bad record never sinks the request: it is " +
			"listed under rejected with its line and reason. The body may be gzip-compressed " +
			"(Content-Encoding: gzip); limits apply after decompression.",
		Parameters: []*huma.Param{
			{
				Name: "source", In: "query", Required: true,
				Description: "the source (feed) the records come from; it names their format",
				Schema:      &huma.Schema{Type: "string", Pattern: "^[A-Za-z0-9._:/-]{1,128}$", Examples: []any{"fw01"}},
			},
			{
				Name: "format", In: "query",
				Description: "the records' format, overriding the source's; creates the source on first use",
				Schema:      &huma.Schema{Type: "string", Examples: []any{"windows"}},
			},
			{
				Name: "Idempotency-Key", In: "header",
				Description: "makes a retry of the same request safe: its batches get the same ids, and batches " +
					"already stored are dropped as duplicates (within the bus's duplicate window, and by the store for committed batches)",
				Schema: &huma.Schema{Type: "string", MaxLength: ptr(256)},
			},
			{
				Name: "Content-Encoding", In: "header",
				Schema: &huma.Schema{Type: "string", Enum: []any{"gzip", "identity"}},
			},
		},
		RequestBody: &huma.RequestBody{
			Required:    true,
			Description: "records, in one of three framings",
			Content: map[string]*huma.MediaType{
				"application/x-ndjson": {Schema: &huma.Schema{
					Type: "string", Description: "one JSON object a line (also accepted as application/jsonl and application/x-jsonlines); blank lines are skipped",
				}},
				"application/json": {Schema: &huma.Schema{
					Description: "an array of records, an envelope {\"records\": [...]} (Azure) or {\"Records\": [...]} (CloudTrail), or one record",
					OneOf: []*huma.Schema{
						{Type: "array", Items: object, MinItems: &one},
						{Type: "object", Required: []string{"records"}, Properties: map[string]*huma.Schema{"records": {Type: "array", Items: object, MinItems: &one}}},
						{Type: "object", Required: []string{"Records"}, Properties: map[string]*huma.Schema{"Records": {Type: "array", Items: object, MinItems: &one}}},
						object,
					},
				}},
				"text/plain": {Schema: &huma.Schema{
					Type: "string", Description: "one record a line (\\n or \\r\\n), for syslog-like and other text formats; blank lines are skipped",
				}},
			},
		},
		Responses: map[string]*huma.Response{
			"202": {Description: "the accepted records are stored on the bus", Content: map[string]*huma.MediaType{"application/json": {Schema: reply}}},
			"400": errResp("missing source, empty body, a JSON array or envelope not valid as a whole, or bad gzip"),
			"401": errResp("not authenticated"),
			"403": errResp("the API key may not ingest"),
			"408": errResp("the body was not sent in time: it stalled, or came slower than the server's minimum rate"),
			"413": errResp("the body is larger than the limit (after decompression)"),
			"415": errResp("unsupported Content-Type or Content-Encoding; the error names the supported ones"),
			"422": errResp("unknown source (give format to create it) or unknown format, or every record was rejected"),
			"429": retryResp("too many bytes in flight on this server, for this workspace or for this API key: retry after Retry-After"),
			"500": errResp("publishing failed for a reason retrying will not fix; stored says how many records were stored"),
			"503": retryResp("the bus is full or unavailable, or detection is further behind than the server's bound: retry after Retry-After; stored says how many records were stored"),
		},
	}
}

func ptr[T any](v T) *T { return &v }
