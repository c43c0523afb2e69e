package incident

import (
	"strings"
	"testing"
)

// dataList renders accesses as "kind:container/name:action", in order.
func dataList(ds []DataAccess) string {
	var s []string
	for _, d := range ds {
		n := d.Name
		if d.Container != "" {
			n = d.Container + "|" + n
		}
		s = append(s, d.Kind+":"+n+":"+d.Action)
	}
	return strings.Join(s, " ")
}

func fm(kv ...string) FieldMap {
	m := FieldMap{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func TestDataAccessedFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    FieldMap
		want string
	}{
		{"4663 read", fm("EventID", "4663", "ObjectType", "File", "ObjectName", `C:\Finance\payroll.xlsx`, "AccessList", "%%4416\n\t\t\t\t", "AccessMask", "0x1"),
			`file:C:\Finance\payroll.xlsx:read`},
		{"4663 delete by mask", fm("EventID", "4663", "ObjectType", "File", "ObjectName", `C:\x.txt`, "AccessMask", "0x10000"),
			`file:C:\x.txt:delete`},
		{"4663 write, rendered words", fm("EventID", "4663", "ObjectType", "File", "ObjectName", `C:\x.txt`, "AccessList", "WriteData (or AddFile)"),
			`file:C:\x.txt:write`},
		{"4663 on a registry key", fm("EventID", "4663", "ObjectType", "Key", "ObjectName", `\REGISTRY\MACHINE\SAM`, "AccessMask", "0x1"), ""},
		{"5145 share", fm("EventID", "5145", "ShareName", `\\*\Finance`, "ShareLocalPath", `\??\D:\Shares\Finance`, "RelativeTargetName", `q1\salaries.xlsx`, "AccessList", "%%4416"),
			`file:D:\Shares\Finance\q1\salaries.xlsx:read`},
		{"5145 share root", fm("EventID", "5145", "ShareName", `\\*\IPC$`, "RelativeTargetName", `\`), ""},
		{"sysmon 11", fm("EventID", "11", "TargetFilename", `C:\Users\bob\AppData\Local\Temp\loot.zip`, "file.path", `C:\Users\bob\AppData\Local\Temp\loot.zip`),
			`file:C:\Users\bob\AppData\Local\Temp\loot.zip:write`},
		{"sysmon 23", fm("EventID", "23", "TargetFilename", `C:\backup.bak`), `file:C:\backup.bak:delete`},
		{"auditd openat read", fm("type", "SYSCALL", "type", "CWD", "type", "PATH", "type", "PATH", "SYSCALL", "openat", "a2", "0", "success", "yes",
			"cwd", "/home/deploy", "name", "/etc/", "nametype", "PARENT", "name", ".aws/credentials", "nametype", "NORMAL"),
			`file:/home/deploy/.aws/credentials:read`},
		{"auditd openat for writing", fm("type", "PATH", "SYSCALL", "openat", "a2", "241", "name", "/tmp/out.csv", "nametype", "CREATE"),
			`file:/tmp/out.csv:write`},
		{"auditd open O_WRONLY", fm("type", "PATH", "SYSCALL", "open", "a1", "1", "name", "/etc/passwd", "nametype", "NORMAL"),
			`file:/etc/passwd:write`},
		{"auditd unlink", fm("type", "PATH", "SYSCALL", "unlinkat", "name", "/var/log/", "nametype", "PARENT", "name", "/var/log/auth.log", "nametype", "DELETE"),
			`file:/var/log/auth.log:delete`},
		{"auditd execve is no data", fm("type", "PATH", "SYSCALL", "execve", "name", "/usr/bin/curl", "nametype", "NORMAL"), ""},
		{"auditd failed", fm("type", "PATH", "SYSCALL", "openat", "success", "no", "name", "/etc/shadow", "nametype", "NORMAL"), ""},
		{"ecs file.path", fm("file.path", "/srv/data/x.csv", "event.action", "file-deleted"), "file:/srv/data/x.csv:delete"},
		{"ecs file.path, action unknown", fm("file.path", "/srv/data/x.csv"), "file:/srv/data/x.csv:"},
		{"failure outcome", fm("file.path", "/srv/data/x.csv", "event.outcome", "failure"), ""},
	} {
		if got := dataList(DataAccessed(tc.f)); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
}

func TestDataAccessedSQL(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    FieldMap
		want string
	}{
		{"sql server batch", fm("db.statement", "SELECT customer_id, cvv FROM dbo.payment_cards", "db.name", "shop", "server_instance_name", "SQL-SHOP-01", "host.name", "SQL-SHOP-01", "event.outcome", "success"),
			"table:SQL-SHOP-01/shop|dbo.payment_cards:read column:dbo.payment_cards|customer_id:read column:dbo.payment_cards|cvv:read"},
		{"mariadb audit", fm("db.statement", "DELETE FROM orders WHERE id < 10", "db.name", "crm", "serverhost", "crm-db-01"),
			"table:crm-db-01/crm|orders:delete"},
		{"database alone", fm("db.statement", "TRUNCATE sessions", "db.name", "shop"), "table:shop|sessions:delete"},
		{"failed statement", fm("db.statement", "SELECT * FROM users", "event.outcome", "failure"), ""},
		{"pgaudit object", fm("db.statement", "SELECT * FROM v", "db.name", "shop", "object_type", "TABLE", "object_name", "public.customers", "class", "READ", "command", "SELECT"),
			"table:shop|v:read table:shop|public.customers:read"},
		{"sql server object access", fm("db.statement", "", "db.name", "shop", "class_type", "U ", "schema_name", "dbo", "object_name", "customers", "action_id", "SL  "),
			"table:shop|dbo.customers:read"},
		{"a statement reading a file", fm("db.statement", "SELECT LOAD_FILE('/etc/shadow')", "db.name", "shop"), "file:/etc/shadow:read"},
	} {
		if got := dataList(DataAccessed(tc.f)); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
}

func TestDataAccessedStorage(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    FieldMap
		want string
	}{
		{"cloudtrail GetObject", fm("eventSource", "s3.amazonaws.com", "eventName", "GetObject", "requestParameters.bucketName", "acme-backups", "requestParameters.key", "db/shop.bak"),
			"object:acme-backups|db/shop.bak:read"},
		{"cloudtrail ListObjects", fm("eventSource", "s3.amazonaws.com", "eventName", "ListObjects", "requestParameters.bucketName", "acme-backups"),
			"bucket:acme-backups:read"},
		{"cloudtrail CopyObject", fm("eventSource", "s3.amazonaws.com", "eventName", "CopyObject", "requestParameters.bucketName", "loot", "requestParameters.key", "x.bak",
			"requestParameters.x-amz-copy-source", "acme-backups/db/shop%20v2.bak?versionId=3"),
			"object:loot|x.bak:write object:acme-backups|db/shop v2.bak:read"},
		{"cloudtrail DeleteBucket", fm("eventSource", "s3.amazonaws.com", "eventName", "DeleteBucket", "requestParameters.bucketName", "acme-logs"), "bucket:acme-logs:delete"},
		{"cloudtrail refused", fm("eventSource", "s3.amazonaws.com", "eventName", "GetObject", "errorCode", "AccessDenied", "requestParameters.bucketName", "b", "requestParameters.key", "k"), ""},
		{"cloudtrail configuration call", fm("eventSource", "s3.amazonaws.com", "eventName", "GetBucketPolicy", "requestParameters.bucketName", "b"), ""},
		{"cloudtrail other service", fm("eventSource", "iam.amazonaws.com", "eventName", "CreateAccessKey"), ""},
		{"s3 access log", fm("operation", "REST.GET.OBJECT", "bucket", "finance-reports", "key", "q1/summary.pdf", "http_status", "200"),
			"object:finance-reports|q1/summary.pdf:read"},
		{"s3 access log denied", fm("operation", "REST.PUT.OBJECT", "bucket", "finance-reports", "key", "hello.txt", "http_status", "403"), ""},
		{"s3 access log bucket listing", fm("operation", "REST.GET.BUCKET", "bucket", "finance-reports", "key", "-", "http_status", "200"),
			"bucket:finance-reports:read"},
		{"azure resource log", fm("operationName", "GetBlob", "statusCode", "200", "statusText", "Success", "properties.objectKey", "/shopaudit/exports/2026/customers.csv"),
			"object:shopaudit/exports|2026/customers.csv:read"},
		{"azure SAS success", fm("operationName", "DeleteBlob", "statusText", "SASSuccess", "properties.objectKey", "/acct/c/b.txt"), "object:acct/c|b.txt:delete"},
		{"azure log analytics row", fm("OperationName", "PutBlob", "StatusText", "Success", "ObjectKey", "/acct/uploads/x%20y.zip"),
			"object:acct/uploads|x y.zip:write"},
		{"azure by uri", fm("operationName", "ListBlobs", "statusText", "Success", "uri", "https://acct.blob.core.windows.net:443/finance?restype=container&comp=list"),
			"bucket:acct/finance:read"},
		{"azure refused", fm("operationName", "GetBlob", "statusText", "AuthorizationFailure", "statusCode", "403", "properties.objectKey", "/a/c/b"), ""},
		{"azure control plane", fm("operationName", "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"), ""},
	} {
		if got := dataList(DataAccessed(tc.f)); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
}

func TestDataAccessedWithoutMultiValues(t *testing.T) {
	// A Fields that gives one value a name still yields the first.
	f := single{fm("type", "PATH", "SYSCALL", "openat", "name", "/srv/a.csv", "nametype", "NORMAL")}
	if got := dataList(DataAccessed(f)); got != "file:/srv/a.csv:read" {
		t.Errorf("got %s", got)
	}
}

type single struct{ m FieldMap }

func (s single) Get(n string) (string, bool) { return s.m.Get(n) }

func FuzzDataAccessed(f *testing.F) {
	f.Add("4663", "File", `C:\x`, "%%4416", "0x1", "SELECT * FROM t", "GetObject", "/a/c/b")
	f.Add("5145", "", `\\*\share`, "", "ffffffff", "COPY t TO '/x'", "REST.GET.OBJECT", "https://a.blob.core.windows.net/c/b")
	f.Add("11", "", "", "WriteData", "zz", "", "DeleteBlob", "%zz")
	f.Fuzz(func(t *testing.T, id, objType, obj, list, mask, stmt, op, key string) {
		for _, f := range []FieldMap{
			fm("EventID", id, "ObjectType", objType, "ObjectName", obj, "AccessList", list, "AccessMask", mask, "TargetFilename", obj,
				"RelativeTargetName", obj, "ShareLocalPath", list),
			fm("type", "PATH", "SYSCALL", op, "a1", mask, "a2", mask, "name", obj, "name", key, "nametype", objType, "cwd", list),
			fm("db.statement", stmt, "db.name", obj, "object_type", objType, "object_name", obj, "class_type", id, "action_id", list),
			fm("eventSource", "s3.amazonaws.com", "eventName", op, "requestParameters.bucketName", obj, "requestParameters.key", key,
				"requestParameters.x-amz-copy-source", key),
			fm("operation", op, "bucket", obj, "key", key),
			fm("operationName", op, "properties.objectKey", key, "uri", key),
		} {
			for _, d := range DataAccessed(f) {
				if d.Name == "" || d.Kind == "" {
					t.Fatalf("%v: %+v", f, d)
				}
			}
		}
	})
}
