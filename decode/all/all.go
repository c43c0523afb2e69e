// Package all registers every format vigil ships: import it for its side
// effect where decoding happens by format name (the vigil command, tests
// across formats).
package all

import (
	_ "github.com/vigil-sec/vigil/decode/accesslog"
	_ "github.com/vigil-sec/vigil/decode/auditd"
	_ "github.com/vigil-sec/vigil/decode/auto"
	_ "github.com/vigil-sec/vigil/decode/awswaf"
	_ "github.com/vigil-sec/vigil/decode/azureactivity"
	_ "github.com/vigil-sec/vigil/decode/azuresyslog"
	_ "github.com/vigil-sec/vigil/decode/cef"
	_ "github.com/vigil-sec/vigil/decode/cloudtrail"
	_ "github.com/vigil-sec/vigil/decode/cowrie"
	_ "github.com/vigil-sec/vigil/decode/errorlog"
	_ "github.com/vigil-sec/vigil/decode/evtx"
	_ "github.com/vigil-sec/vigil/decode/haproxy"
	_ "github.com/vigil-sec/vigil/decode/iis"
	_ "github.com/vigil-sec/vigil/decode/journald"
	_ "github.com/vigil-sec/vigil/decode/jsonrecord"
	_ "github.com/vigil-sec/vigil/decode/leef"
	_ "github.com/vigil-sec/vigil/decode/mssqlaudit"
	_ "github.com/vigil-sec/vigil/decode/mysql"
	_ "github.com/vigil-sec/vigil/decode/nsgflow"
	_ "github.com/vigil-sec/vigil/decode/postgres"
	_ "github.com/vigil-sec/vigil/decode/s3access"
	_ "github.com/vigil-sec/vigil/decode/signin"
	_ "github.com/vigil-sec/vigil/decode/sshd"
	_ "github.com/vigil-sec/vigil/decode/syslog"
	_ "github.com/vigil-sec/vigil/decode/sysmonlinux"
	_ "github.com/vigil-sec/vigil/decode/text"
	_ "github.com/vigil-sec/vigil/decode/vmconnection"
	_ "github.com/vigil-sec/vigil/decode/vpcflow"
	_ "github.com/vigil-sec/vigil/decode/windows"
)
