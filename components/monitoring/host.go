package monitoring

import (
	"bytes"
	"fmt"
	"path"
	"text/template"

	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/iampolicy"
)

// pkiDir holds the internal CA and the host's NRPE client certificate.
const pkiDir = "/etc/nagios4/pki"

var bootstrap = template.Must(template.New("bootstrap").Parse(`#!/bin/bash
# {{.Name}}: bootstrap of the Nagios host, on the account's monitoring image (Nagios 4, the monitoring
# plugins, check_nrpe, check_pgbackrest, Apache, the CloudWatch agent and the AWS CLI installed).
# Secrets come from Secrets Manager; none is written into this script.
set -euo pipefail
umask 077
secret() { aws secretsmanager get-secret-value --region {{.Region}} --secret-id "$1" --query SecretString --output text; }

# The internal CA, to verify the database hosts, and this host's client certificate for their NRPE.
install -d -o nagios -g nagios -m 700 {{.PKIDir}}
secret {{.TLSSecret}} | python3 -c 'import json,sys; d=json.load(sys.stdin); open("{{.PKIDir}}/client.key","w").write(d["key"]); open("{{.PKIDir}}/client.crt","w").write(d["cert"]); open("{{.PKIDir}}/ca.crt","w").write(d["ca"])'
chown nagios:nagios {{.PKIDir}}/client.key {{.PKIDir}}/client.crt {{.PKIDir}}/ca.crt

# The monitoring user's password, in libpq's passfile: never on a command line or in the configuration.
install -d -o nagios -g nagios -m 750 /var/lib/nagios
printf '*:*:*:nagios:%s\n' "$(secret {{.PasswordSecret}})" > /var/lib/nagios/.pgpass
chown nagios:nagios /var/lib/nagios/.pgpass
chmod 600 /var/lib/nagios/.pgpass

# Nagios runs the generated configuration, checked before it starts.
install -d -o nagios -g nagios -m 750 {{.StateDir}} {{.StateDir}}/spool/checkresults {{.StateDir}}/rw {{.LogDir}}
chown -R root:nagios {{.ConfigDir}}
chmod 640 {{.ConfigDir}}/*.cfg
ln -sf {{.ConfigDir}}/nagios.cfg /etc/nagios4/nagios.cfg
nagios4 -v /etc/nagios4/nagios.cfg
systemctl enable --now nagios4

# The web interface listens on loopback only: operators reach it with Session Manager port forwarding.
install -m 644 /etc/hipaa/apache-ports.conf /etc/apache2/ports.conf
systemctl enable apache2
systemctl restart apache2

/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/etc/hipaa/cloudwatch-agent.json
`))

// notify publishes Nagios's notifications to the topic.
const notify = `#!/bin/bash
# Publish a Nagios notification (NAGIOS_SUBJECT, NAGIOS_MESSAGE) to the alert topic.
set -euo pipefail
exec aws sns publish --region %s --topic-arn %s --subject "${NAGIOS_SUBJECT:0:99}" --message "$NAGIOS_MESSAGE"
`

const apachePorts = "# The Nagios web interface: loopback only, reached through Session Manager port forwarding.\nListen 127.0.0.1:80\n"

// TopicArn is the alert topic's ARN, known before deployment from its fixed name.
func TopicArn(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s-alerts", partition, region, account, name)
}

// UserData renders the Nagios host's setup as gzipped cloud-init user data: the generated configuration,
// the notification script, Apache on loopback, the CloudWatch agent's configuration and the bootstrap.
// p are the parameters files were rendered from. Every part is known before deployment, so a preview
// shows exactly what the host will run.
func UserData(name string, a *MonitoringArgs, p nagios.Params, files nagios.Files) (string, error) {
	var boot bytes.Buffer
	if err := bootstrap.Execute(&boot, map[string]string{
		"Name": name, "Region": a.Region, "PKIDir": pkiDir, "TLSSecret": a.Database.TLSSecret, "PasswordSecret": a.Database.PasswordSecret,
		"StateDir": p.StateDir, "LogDir": p.LogDir, "ConfigDir": p.Dir,
	}); err != nil {
		return "", err
	}
	var wf []cloudinit.File
	for _, n := range files.Names() {
		wf = append(wf, cloudinit.File{Path: path.Join(p.Dir, n), Permissions: "0640", Content: files[n]})
	}
	wf = append(wf,
		cloudinit.File{Path: p.NotifyCommand, Permissions: "0755", Content: fmt.Sprintf(notify, a.Region, TopicArn(iampolicy.Partition(a.Region), a.Region, a.AccountID, name))},
		cloudinit.File{Path: "/etc/hipaa/apache-ports.conf", Permissions: "0644", Content: apachePorts},
		cloudinit.File{Path: "/etc/hipaa/cloudwatch-agent.json", Permissions: "0644", Content: cloudinit.AgentConfig("/")},
		cloudinit.File{Path: "/usr/local/sbin/hipaa-monitoring-bootstrap", Permissions: "0700", Content: boot.String()},
	)
	return cloudinit.Encode(wf, [][]string{{"/usr/local/sbin/hipaa-monitoring-bootstrap"}})
}
