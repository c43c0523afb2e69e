package incident

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/event"
)

// Fields reads an event's flat fields by name, as `vigil decode` shows
// them: the source's own fields (eventName, ObjectName, TargetFilename…)
// first, then the common ECS ones (file.path, db.statement, user.name…).
// *event.Event satisfies it.
type Fields interface {
	Get(name string) (string, bool)
}

// MultiFields is Fields that also gives every value of a field a record
// holds several times (auditd's PATH records each name a file).
type MultiFields interface {
	Fields
	Values(name string) []string
}

// FieldMap is Fields over a map of field names to their values.
type FieldMap map[string][]string

// Get returns the first value of name.
func (m FieldMap) Get(name string) (string, bool) {
	if v := m[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// Values returns every value of name.
func (m FieldMap) Values(name string) []string { return m[name] }

// FieldMapOf copies a decoded event's fields — the source's own under
// their names, the common ones under their ECS names — into a FieldMap
// that outlives the event (decoded values alias the record's buffer, and
// a reused event is overwritten by the next record).
func FieldMapOf(ev *event.Event) FieldMap {
	m := FieldMap{}
	for id, v := range ev.Common {
		if v != "" {
			m[event.CommonName(id)] = []string{strings.Clone(v)}
		}
	}
	if d := ev.Fields.Dict(); d != nil {
		for _, id := range ev.Fields.IDs() {
			name := d.Name(id)
			var vs []string
			ev.Fields.Each(id, func(v string) bool {
				vs = append(vs, strings.Clone(v))
				return true
			})
			// a source's own field wins over the ECS one of the same name,
			// as Event.Get reads them
			m[name] = vs
		}
	}
	return m
}

// DataAccessed lists the files, tables, columns and storage objects an
// event shows being read, written, deleted or exported: file audit events
// (Windows 4663/4656 and 5145, Sysmon file events, auditd PATH records, any
// event's file.path), SQL statements (db.statement, with pgaudit's and SQL
// Server's object names), and cloud storage operations (CloudTrail S3 data
// events, S3 server access logs, Azure storage resource logs). An event
// that failed (event.outcome failure, an error code, an HTTP status of 400
// or more) touched nothing and gives nothing. Sensitivity is left for the
// Classifier.
func DataAccessed(f Fields) []DataAccess {
	if failed(f) {
		return nil
	}
	var out []DataAccess
	seen := map[DataAccess]bool{}
	add := func(d DataAccess) {
		if d.Name == "" {
			return
		}
		k := d
		k.Name, k.Container = strings.ToLower(d.Name), strings.ToLower(d.Container)
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	storageAccess(f, add)
	sqlAccess(f, add)
	fileAccess(f, add)
	return out
}

// get returns the first non-empty value of the names.
func get(f Fields, names ...string) string {
	for _, n := range names {
		if v, ok := f.Get(n); ok && v != "" && v != "-" {
			return v
		}
	}
	return ""
}

func values(f Fields, name string) []string {
	if m, ok := f.(MultiFields); ok {
		return m.Values(name)
	}
	if v, ok := f.Get(name); ok {
		return []string{v}
	}
	return nil
}

func failed(f Fields) bool {
	if strings.EqualFold(get(f, "event.outcome"), "failure") {
		return true
	}
	if get(f, "errorCode") != "" { // CloudTrail: the call was refused
		return true
	}
	for _, n := range []string{"http_status", "statusCode", "StatusCode", "http.response.status_code"} {
		if c, err := strconv.Atoi(get(f, n)); err == nil && c >= 400 {
			return true
		}
	}
	if st := get(f, "statusText", "StatusText"); st != "" && !strings.Contains(strings.ToLower(st), "success") {
		return true // Azure storage: AuthorizationFailure, ClientOtherError…
	}
	return strings.EqualFold(get(f, "success"), "no") // auditd
}

// Files.

// windowsAccess reads a Windows object access list (%%4416 … or the
// words Windows renders them as) or mask as the strongest action it
// grants: delete, write, read, execute.
func windowsAccess(list, mask string) string {
	l := strings.ToLower(list)
	switch {
	case strings.Contains(l, "%%1537") || strings.Contains(l, "delete"):
		return ActionDelete
	case containsAny(l, "%%4417", "%%4418", "%%4420", "%%4424", "%%1539", "%%1540", "writedata", "appenddata", "writeattributes", "writeea", "write_dac", "write_owner"):
		return ActionWrite
	case containsAny(l, "%%4416", "%%4419", "%%4423", "readdata", "readea", "readattributes"):
		return ActionRead
	case containsAny(l, "%%4421", "execute"):
		return ActionExecute
	}
	m, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(mask), "0x"), 16, 32)
	if err != nil || m == 0 {
		return ""
	}
	switch {
	case m&0x10000 != 0 || m&0x40 != 0: // DELETE, FILE_DELETE_CHILD
		return ActionDelete
	case m&(0x2|0x4|0x10|0x100|0x40000|0x80000) != 0:
		return ActionWrite
	case m&(0x1|0x8|0x80|0x80000000) != 0:
		return ActionRead
	case m&0x20 != 0:
		return ActionExecute
	}
	return ActionRead
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// sysmonFileActions are Sysmon's file event ids (Windows and Linux).
var sysmonFileActions = map[string]string{
	"2": ActionWrite, "11": ActionWrite, "15": ActionWrite, "23": ActionDelete, "26": ActionDelete, "27": ActionWrite, "29": ActionWrite,
}

func fileAccess(f Fields, add func(DataAccess)) {
	id := get(f, "EventID", "event.code")
	// Security 4656/4663 (object access) on files; 4660 names no object.
	if obj := get(f, "ObjectName"); obj != "" && (id == "4656" || id == "4663" || id == "4659") {
		if t := get(f, "ObjectType"); t != "" && !strings.EqualFold(t, "File") {
			return // registry keys, services, AD objects
		}
		add(DataAccess{Kind: DataFile, Name: obj, Action: windowsAccess(get(f, "AccessList"), get(f, "AccessMask"))})
		return
	}
	// Security 5145: a file on a network share.
	if id == "5145" {
		rel := get(f, "RelativeTargetName")
		if rel == "" || rel == `\` {
			return
		}
		base := get(f, "ShareLocalPath")
		base = strings.TrimPrefix(base, `\??\`)
		if base == "" {
			base = get(f, "ShareName")
		}
		add(DataAccess{Kind: DataFile, Name: strings.TrimSuffix(base, `\`) + `\` + strings.TrimPrefix(rel, `\`), Action: windowsAccess(get(f, "AccessList"), get(f, "AccessMask"))})
		return
	}
	if tf := get(f, "TargetFilename"); tf != "" {
		add(DataAccess{Kind: DataFile, Name: tf, Action: sysmonFileActions[id]})
		return
	}
	if auditdAccess(f, add) {
		return
	}
	if p := get(f, "file.path"); p != "" {
		add(DataAccess{Kind: DataFile, Name: p, Action: actionWord(get(f, "event.action"))})
	}
}

// actionWord reads a free-form action (an event.action) as a data action.
func actionWord(a string) string {
	a = strings.ToLower(a)
	switch {
	case a == "":
		return ""
	case containsAny(a, "delete", "remove", "unlink", "erase"):
		return ActionDelete
	case containsAny(a, "export", "download", "exfil", "copy"):
		return ActionExport
	case containsAny(a, "write", "creat", "modif", "rename", "change", "upload", "put", "append", "overwrit"):
		return ActionWrite
	case containsAny(a, "read", "open", "access", "get", "view", "list"):
		return ActionRead
	case containsAny(a, "exec", "run", "launch"):
		return ActionExecute
	}
	return ""
}

// auditdAccess reads an auditd event's PATH records: each name the
// syscall touched (not the directories it looked names up in), relative
// ones joined to CWD. A program's execution is no data access.
func auditdAccess(f Fields, add func(DataAccess)) bool {
	names := values(f, "name")
	if len(names) == 0 || !hasValue(values(f, "type"), "PATH") {
		return false
	}
	call := strings.ToLower(get(f, "SYSCALL", "event.action"))
	if call == "execve" || call == "execveat" {
		return true
	}
	types := values(f, "nametype")
	cwd := get(f, "cwd")
	action := syscallAction(call, f)
	for i, n := range names {
		nt := ""
		if i < len(types) {
			nt = strings.ToUpper(types[i])
		}
		if nt == "PARENT" || n == "" || n == "(null)" {
			continue
		}
		if !strings.HasPrefix(n, "/") && cwd != "" {
			n = strings.TrimSuffix(cwd, "/") + "/" + strings.TrimPrefix(n, "./")
		}
		a := action
		switch nt {
		case "DELETE":
			a = ActionDelete
		case "CREATE":
			a = ActionWrite
		}
		add(DataAccess{Kind: DataFile, Name: n, Action: a})
	}
	return true
}

func hasValue(vs []string, v string) bool {
	for _, x := range vs {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// syscallAction reads a file syscall as a data action; open's flags (a1,
// openat's a2, in hex) say whether it opened for writing.
func syscallAction(call string, f Fields) string {
	switch call {
	case "unlink", "unlinkat", "rmdir":
		return ActionDelete
	case "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "truncate", "ftruncate",
		"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat", "lchown", "setxattr", "lsetxattr", "mkdir", "mkdirat", "creat", "mknod", "mknodat", "utimensat":
		return ActionWrite
	case "open", "openat", "openat2":
		arg := "a1"
		if call != "open" {
			arg = "a2"
		}
		if fl, err := strconv.ParseUint(get(f, arg), 16, 64); err == nil && fl&(0x1|0x2|0x40|0x200|0x400) != 0 {
			return ActionWrite // O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND
		}
		return ActionRead
	case "":
		return ""
	}
	return ActionRead
}

// SQL.

func sqlAccess(f Fields, add func(DataAccess)) {
	stmt := get(f, "db.statement")
	db := get(f, "db.name", "database_name")
	server := get(f, "server_instance_name", "serverhost", "host.name")
	container := db
	if server != "" && db != "" {
		container = server + "/" + db
	}
	for _, a := range ParseStatement(stmt) {
		d := DataAccess{Kind: a.Kind, Name: a.Name, Action: a.Action}
		switch a.Kind {
		case DataTable:
			d.Container = container
		case DataColumn:
			d.Container = a.Table
		}
		add(d)
	}
	// pgaudit's object audit names the relation; SQL Server's object
	// access audit (SCHEMA_OBJECT_ACCESS_GROUP) names schema and object.
	if t := get(f, "object_type"); strings.EqualFold(t, "TABLE") || strings.EqualFold(t, "VIEW") || strings.EqualFold(t, "MATERIALIZED VIEW") {
		if n := get(f, "object_name"); n != "" {
			add(DataAccess{Kind: DataTable, Name: n, Container: container, Action: pgauditAction(get(f, "class"), get(f, "command"))})
		}
	}
	if ct := strings.TrimSpace(get(f, "class_type")); (ct == "U" || ct == "V") && get(f, "object_name") != "" {
		n := get(f, "object_name")
		if s := get(f, "schema_name"); s != "" {
			n = s + "." + n
		}
		add(DataAccess{Kind: DataTable, Name: n, Container: container, Action: mssqlAction(strings.TrimSpace(get(f, "action_id")))})
	}
}

func pgauditAction(class, command string) string {
	switch strings.ToUpper(command) {
	case "DELETE", "TRUNCATE TABLE", "DROP TABLE":
		return ActionDelete
	case "COPY":
		return ActionExport
	}
	if strings.EqualFold(class, "WRITE") || strings.EqualFold(class, "DDL") {
		return ActionWrite
	}
	return ActionRead
}

func mssqlAction(id string) string {
	switch id {
	case "DL":
		return ActionDelete
	case "IN", "UP", "AL", "CR", "DR":
		return ActionWrite
	case "EX":
		return ActionExecute
	}
	return ActionRead // SL, RF
}

// Cloud storage.

// s3Actions are the S3 API calls on data (CloudTrail eventName); bucket
// calls have no key. Configuration calls (GetBucketPolicy…) touch no data.
var s3Actions = map[string]string{
	"GetObject": ActionRead, "GetObjectVersion": ActionRead, "SelectObjectContent": ActionRead, "RestoreObject": ActionRead,
	"GetObjectTorrent": ActionRead, "ListObjects": ActionRead, "ListObjectsV2": ActionRead, "ListBucket": ActionRead,
	"ListObjectVersions": ActionRead, "ListMultipartUploads": ActionRead,
	"PutObject": ActionWrite, "CopyObject": ActionWrite, "UploadPart": ActionWrite, "UploadPartCopy": ActionWrite,
	"CompleteMultipartUpload": ActionWrite, "CreateMultipartUpload": ActionWrite, "PutObjectAcl": ActionWrite,
	"DeleteObject": ActionDelete, "DeleteObjects": ActionDelete, "DeleteObjectVersion": ActionDelete, "DeleteBucket": ActionDelete,
}

// s3Operations are S3 server access log operations (REST.<verb>.<kind>).
var s3Operations = map[string]string{
	"REST.GET.OBJECT": ActionRead, "REST.GET.BUCKET": ActionRead, "REST.GET.BUCKETVERSIONS": ActionRead,
	"REST.POST.RESTORE": ActionRead, "REST.POST.SELECT": ActionRead,
	"REST.PUT.OBJECT": ActionWrite, "REST.COPY.OBJECT": ActionWrite, "REST.COPY.PART": ActionWrite, "REST.POST.UPLOAD": ActionWrite,
	"REST.PUT.PART": ActionWrite, "REST.POST.UPLOADS": ActionWrite, "REST.PUT.ACL": ActionWrite, "REST.POST.OBJECT": ActionWrite,
	"REST.DELETE.OBJECT": ActionDelete, "REST.DELETE.BUCKET": ActionDelete, "REST.POST.MULTI_OBJECT_DELETE": ActionDelete,
	"BATCH.DELETE.OBJECT": ActionDelete, "REST.DELETE.UPLOAD": ActionDelete,
}

// azureStorageActions are Azure Storage operations on data (blob, Data
// Lake and file services), as resource logs name them.
var azureStorageActions = map[string]string{
	"GetBlob": ActionRead, "ListBlobs": ActionRead, "GetFile": ActionRead, "ListFilesAndDirectories": ActionRead,
	"ReadFile": ActionRead, "ListFilesystemDir": ActionRead, "QueryBlobContents": ActionRead, "CopyBlobSource": ActionRead,
	"PutBlob": ActionWrite, "PutBlock": ActionWrite, "PutBlockList": ActionWrite, "PutBlockFromURL": ActionWrite,
	"AppendBlock": ActionWrite, "PutPage": ActionWrite, "CopyBlob": ActionWrite, "CopyBlobDestination": ActionWrite,
	"CopyBlobFromURL": ActionWrite, "PutBlobFromURL": ActionWrite, "CreateFile": ActionWrite, "PutRange": ActionWrite,
	"AppendFile": ActionWrite, "FlushFile": ActionWrite, "RenamePath": ActionWrite, "CreatePathFile": ActionWrite,
	"SetBlobTier": ActionWrite, "UndeleteBlob": ActionWrite,
	"DeleteBlob": ActionDelete, "DeleteFile": ActionDelete, "DeletePath": ActionDelete, "DeleteContainer": ActionDelete,
	"DeleteShare": ActionDelete, "DeleteFilesystem": ActionDelete,
}

func storageAccess(f Fields, add func(DataAccess)) {
	// CloudTrail S3 data events (and the bucket management calls above).
	if src := get(f, "eventSource"); strings.EqualFold(src, "s3.amazonaws.com") {
		name := get(f, "eventName")
		action, ok := s3Actions[name]
		if !ok {
			return
		}
		bucket := get(f, "requestParameters.bucketName", "requestParameters.Bucket")
		key := get(f, "requestParameters.key", "requestParameters.Key")
		if key != "" {
			add(DataAccess{Kind: DataObject, Name: key, Container: bucket, Action: action})
		} else if bucket != "" {
			add(DataAccess{Kind: DataBucket, Name: bucket, Action: action})
		}
		// CopyObject reads its source, "bucket/key".
		if cs := get(f, "requestParameters.x-amz-copy-source"); cs != "" {
			if u, err := url.PathUnescape(cs); err == nil {
				cs = u
			}
			cs = strings.TrimPrefix(cs, "/")
			if b, k, ok := strings.Cut(cs, "/"); ok {
				add(DataAccess{Kind: DataObject, Name: strings.SplitN(k, "?", 2)[0], Container: b, Action: ActionRead})
			}
		}
		return
	}
	// S3 server access logs.
	if op := get(f, "operation"); strings.HasPrefix(op, "REST.") || strings.HasPrefix(op, "BATCH.") {
		action, ok := s3Operations[strings.ToUpper(op)]
		if !ok {
			return
		}
		bucket, key := get(f, "bucket"), get(f, "key")
		if key != "" {
			add(DataAccess{Kind: DataObject, Name: key, Container: bucket, Action: action})
		} else if bucket != "" {
			add(DataAccess{Kind: DataBucket, Name: bucket, Action: action})
		}
		return
	}
	// Azure storage resource logs: a diagnostic setting's records
	// (operationName, properties.objectKey "/account/container/blob", uri)
	// or Log Analytics' StorageBlobLogs rows (OperationName, ObjectKey…).
	op := get(f, "operationName", "OperationName")
	action, ok := azureStorageActions[op]
	if !ok {
		return
	}
	key := get(f, "properties.objectKey", "ObjectKey", "objectKey")
	if key == "" {
		if u, err := url.Parse(get(f, "uri", "Uri", "properties.requestUrl")); err == nil && u.Path != "" {
			acct, _, _ := strings.Cut(u.Host, ".")
			key = "/" + acct + u.Path
		}
	}
	if u, err := url.PathUnescape(key); err == nil {
		key = u
	}
	parts := strings.SplitN(strings.TrimPrefix(key, "/"), "/", 3)
	switch {
	case len(parts) == 3 && parts[2] != "":
		add(DataAccess{Kind: DataObject, Name: parts[2], Container: parts[0] + "/" + parts[1], Action: action})
	case len(parts) >= 2 && parts[1] != "":
		add(DataAccess{Kind: DataBucket, Name: parts[0] + "/" + parts[1], Action: action})
	}
}
