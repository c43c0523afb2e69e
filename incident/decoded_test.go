package incident_test

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/decode"
	_ "github.com/vigil-sec/vigil/decode/all"
	"github.com/vigil-sec/vigil/event"
	"github.com/vigil-sec/vigil/incident"
)

// TestDataAccessedFromDecodedRecords ties DataAccessed to the field names
// vigil's decoders give: records as the sources write them, decoded the
// way the API's event view does (every field), read through FieldMapOf.
func TestDataAccessedFromDecodedRecords(t *testing.T) {
	for _, tc := range []struct{ format, rec, want string }{
		{"mssql-audit",
			`{"event_time":"2026-11-30T10:46:12.5000000","sequence_number":1,"action_id":"BCM ","succeeded":true,"session_id":61,"server_principal_name":"shop_app","database_principal_name":"shop_app","server_instance_name":"SQL-SHOP-01","database_name":"shop","schema_name":"","object_name":"","statement":"SELECT customer_id, card_number, cvv FROM dbo.payment_cards","client_ip":"203.0.113.45","application_name":"Microsoft SQL Server Management Studio - Query","response_rows":48210,"affected_rows":0,"class_type":"DB","host_name":"kali"}`,
			"table:SQL-SHOP-01/shop|dbo.payment_cards:read column:dbo.payment_cards|customer_id:read column:dbo.payment_cards|card_number:read column:dbo.payment_cards|cvv:read"},
		{"mssql-audit", // a failed statement reads nothing
			`{"event_time":"2026-11-30T10:46:12.5000000","action_id":"BCM ","succeeded":false,"server_principal_name":"shop_app","server_instance_name":"SQL-SHOP-01","database_name":"shop","statement":"SELECT * FROM dbo.customers"}`,
			""},
		{"postgres-json",
			`{"timestamp":"2026-11-27 16:49:54.612 UTC","user":"webapp","dbname":"shop","pid":22878,"remote_host":"127.0.0.1","session_id":"6b09b4b2.595e","error_severity":"LOG","message":"statement: COPY (SELECT * FROM customers) TO '/tmp/c.csv'","application_name":"psql","backend_type":"client backend"}`,
			"file:/tmp/c.csv:write table:shop|customers:export"},
		{"cloudtrail",
			`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","userName":"deploy","accountId":"111122223333"},"eventTime":"2026-11-30T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.45","userAgent":"aws-cli/2.15.0","requestParameters":{"bucketName":"shop-backups","Host":"shop-backups.s3.eu-west-1.amazonaws.com","key":"db/shop-2026-11-29.bak"},"responseElements":null,"additionalEventData":{"bytesTransferredOut":52428800},"requestID":"X1","eventID":"e1","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::shop-backups/db/shop-2026-11-29.bak"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data"}`,
			"object:shop-backups|db/shop-2026-11-29.bak:read"},
		{"cloudtrail",
			`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","userName":"deploy"},"eventTime":"2026-11-30T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.45","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"hr-files","key":"salaries.xlsx"},"eventType":"AwsApiCall"}`,
			""},
		{"s3access",
			`79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be finance-reports [06/May/2024:08:00:38 +0000] 198.51.100.23 arn:aws:iam::111122223333:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT q1/summary.pdf "GET /finance-reports/q1/summary.pdf?versionId=abc HTTP/1.1" 200 - 113 4096 7 6 "-" "aws-cli/2.15.0 Python/3.11.6" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader finance-reports.s3.eu-west-1.amazonaws.com TLSv1.2`,
			"object:finance-reports|q1/summary.pdf:read"},
		{"azureactivity",
			`{"time":"2026-11-30T10:50:02.1234567Z","resourceId":"/subscriptions/6c2b9f3e/resourceGroups/prod-rg/providers/Microsoft.Storage/storageAccounts/shopexports/blobServices/default","category":"StorageRead","operationName":"GetBlob","statusCode":200,"statusText":"Success","callerIpAddress":"203.0.113.45:50122","identity":{"type":"SAS"},"properties":{"accountName":"shopexports","serviceType":"blob","objectKey":"/shopexports/finance/2026/customers.csv"},"uri":"https://shopexports.blob.core.windows.net/finance/2026/customers.csv?sv=2021-08-06&sig=X","protocol":"HTTPS"}`,
			"object:shopexports/finance|2026/customers.csv:read"},
		{"windows",
			`{"EventID":4663,"Channel":"Security","Provider_Name":"Microsoft-Windows-Security-Auditing","Computer":"FS01.corp.example","TimeCreated":"2026-11-30 11:02:00.000","Keywords":"0x8020000000000000","SubjectUserName":"deploy","SubjectDomainName":"CORP","ObjectServer":"Security","ObjectType":"File","ObjectName":"D:\\Shares\\HR\\salaries-2026.xlsx","AccessList":"%%4416\r\n\t\t\t\t","AccessMask":"0x1","ProcessName":"C:\\Windows\\explorer.exe"}`,
			`file:D:\Shares\HR\salaries-2026.xlsx:read`},
		{"windows",
			`{"EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WKS07","TimeCreated":"2026-11-30 11:05:00.000","Image":"C:\\Windows\\System32\\rundll32.exe","TargetFilename":"C:\\Windows\\Temp\\lsass.dmp","User":"CORP\\deploy"}`,
			`file:C:\Windows\Temp\lsass.dmp:write`},
		{"auditd",
			"type=SYSCALL msg=audit(1764497000.100:5150): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd2 a2=0 a3=0 items=1 ppid=900 pid=901 auid=1001 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=7 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"secrets\"\n" +
				"type=CWD msg=audit(1764497000.100:5150): cwd=\"/home/deploy\"\n" +
				"type=PATH msg=audit(1764497000.100:5150): item=0 name=\".aws/credentials\" inode=4242 dev=08:01 mode=0100600 ouid=1001 ogid=1001 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n" +
				"type=PROCTITLE msg=audit(1764497000.100:5150): proctitle=636174002E6177732F63726564656E7469616C73",
			"file:/home/deploy/.aws/credentials:read"},
	} {
		d, err := decode.New(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		var ev event.Event
		ev.Fields.Bind(event.NewOpenDict())
		if err := d.Decode([]byte(tc.rec), &ev); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		fields := incident.FieldMapOf(&ev)
		ev.Release() // the copy stands on its own
		var got []string
		for _, a := range incident.DataAccessed(fields) {
			n := a.Name
			if a.Container != "" {
				n = a.Container + "|" + n
			}
			got = append(got, a.Kind+":"+n+":"+a.Action)
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s %.60s…:\n got  %s\n want %s", tc.format, tc.rec, g, tc.want)
		}
	}
}
