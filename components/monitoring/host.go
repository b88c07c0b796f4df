package monitoring

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"text/template"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/iampolicy"
)

// pkiDir holds the internal CA and the host's certificate from it: NRPE's client certificate, and the
// witness etcd member's (which the component issues for both uses).
const pkiDir = "/etc/nagios4/pki"

// credentialFile is the Nagios resource file that names the monitoring login in use ($USER6$), outside
// the generated configuration's directory, whose files the converge run replaces.
const credentialFile = "/etc/nagios4/hipaa-credential.cfg"

// Where the witness etcd member's configuration is staged, and its copies of the certificate.
const (
	witnessConfig = "/etc/hipaa/etcd.env"
	witnessTLSDir = "/etc/hipaa/etcd-tls"
)

// steps are the Nagios host's converge steps, on the account's monitoring image (Nagios 4, the
// monitoring plugins, check_nrpe, check_pgbackrest, Apache, the Systems Manager and CloudWatch agents and
// the AWS CLI installed). Secrets come from Secrets Manager and are never printed.
var steps = template.Must(template.New("steps").Parse(`# The internal CA, to verify the database hosts, and this host's client certificate for their NRPE.
install -d -o nagios -g nagios -m 700 {{.PKIDir}}
tls=$(secret {{.TLSSecret}})
for part in key:client.key cert:client.crt ca:ca.crt; do
  printf '%s' "$tls" | python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)[sys.argv[1]])' "${part%%:*}" |
    put "{{.PKIDir}}/${part#*:}" 600 nagios:nagios
done
unset tls

# Nagios runs the generated configuration, verified before it is loaded: a configuration that does not
# verify stops the run, and Nagios keeps the last one.
install -d -o nagios -g nagios -m 750 {{.StateDir}} {{.StateDir}}/spool/checkresults {{.StateDir}}/rw {{.LogDir}}
install -d -o root -g nagios -m 750 {{.ConfigDir}}
config_changed=0

# The monitoring credential (JSON: the login in use and its password): the password in libpq's passfile,
# never on a command line or in the configuration, and the login in the resource file the checks take it
# from, a reload when it changes. The other login's line stays in the passfile, so a check that Nagios
# runs as the previous login before its reload still finds that login's password, which a rotation
# leaves valid for a while.
credential=$(secret {{.PasswordSecret}})
login=$(printf '%s' "$credential" | python3 -c 'import json, sys; print(json.load(sys.stdin)["username"])')
install -d -o nagios -g nagios -m 750 /var/lib/nagios
{
  printf '%s' "$credential" | python3 -c 'import json, sys; c = json.load(sys.stdin); print("*:*:*:%s:%s" % (c["username"], c["password"]))'
  grep -v "^\*:\*:\*:$login:" /var/lib/nagios/.pgpass 2> /dev/null | head -n 1 || true
} | put /var/lib/nagios/.pgpass 600 nagios:nagios
unset credential
echo "{{.CredentialMacro}}=$login" | put {{.CredentialFile}} 640 root:nagios
[ "$PUT_CHANGED" = 0 ] || config_changed=1
for staged in /etc/hipaa/nagios/*.cfg; do
  dest={{.ConfigDir}}/${staged##*/}
  put "$dest" 640 root:nagios < "$staged"
  [ "$PUT_CHANGED" = 0 ] || config_changed=1
done
for cfg in {{.ConfigDir}}/*.cfg; do
  if [ ! -e "/etc/hipaa/nagios/${cfg##*/}" ]; then
    rm -f "$cfg"
    config_changed=1
    changed "removed $cfg"
  fi
done
if [ "$(readlink /etc/nagios4/nagios.cfg)" != {{.ConfigDir}}/nagios.cfg ]; then
  ln -sf {{.ConfigDir}}/nagios.cfg /etc/nagios4/nagios.cfg
  config_changed=1
  changed "linked /etc/nagios4/nagios.cfg"
fi
put {{.NotifyCommand}} 755 root:root < /etc/hipaa/hipaa-notify
put {{.DowntimeCommand}} 755 root:root < /etc/hipaa/hipaa-nagios-downtime
if [ "$config_changed" = 1 ] || ! systemctl is-active --quiet nagios4; then
  if ! verified=$(nagios4 -v /etc/nagios4/nagios.cfg 2>&1); then
    printf '%s\n' "$verified"
    log "the new Nagios configuration does not verify; Nagios keeps the last one"
    false
  fi
fi
if ! systemctl is-active --quiet nagios4; then
  running nagios4
elif [ "$config_changed" = 1 ]; then
  systemctl reload nagios4
  changed "reloaded nagios4"
fi

# The web interface listens on loopback only: operators reach it with Session Manager port forwarding.
put /etc/apache2/ports.conf 644 root:root < /etc/hipaa/apache-ports.conf
apache_changed=$PUT_CHANGED
if ! systemctl is-active --quiet apache2; then
  running apache2
elif [ "$apache_changed" = 1 ]; then
  # A restart, not a reload: measured on the booted host, a graceful reload kept the package's
  # 0.0.0.0:80 socket open. Only the web interface restarts; Nagios keeps checking.
  systemctl restart apache2
  changed "restarted apache2 on its new addresses"
fi

agent=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ -x "$agent" ]; then
  put "$state/cloudwatch-agent.json" 600 root:root < /etc/hipaa/cloudwatch-agent.json
  if [ "$PUT_CHANGED" = 1 ] || ! systemctl is-active --quiet amazon-cloudwatch-agent; then
    "$agent" -a fetch-config -m ec2 -s -c file:/etc/hipaa/cloudwatch-agent.json
  fi
else
  log "the image has no CloudWatch agent ($agent): this host ships no disk or memory metrics and no logs"
fi
`))

// notify publishes Nagios's notifications to the topic.
const notify = `#!/bin/bash
# Publish a Nagios notification (NAGIOS_SUBJECT, NAGIOS_MESSAGE) to the alert topic.
set -euo pipefail
exec aws sns publish --region %s --topic-arn %s --subject "${NAGIOS_SUBJECT:0:99}" --message "$NAGIOS_MESSAGE"
`

// DowntimeCommand is where the Nagios host has downtime, which `platformctl db patch` runs through
// Systems Manager to announce planned work on hosts: start MINUTES COMMENT HOST... schedules a fixed
// downtime of each host and its services from now, so that nothing they report notifies anyone; end
// COMMENT HOST... deletes those downtimes (and no other), so that a host still down then notifies.
const DowntimeCommand = "/usr/local/sbin/hipaa-nagios-downtime"

// downtime is DowntimeCommand, writing Nagios's external commands (SCHEDULE_HOST_DOWNTIME,
// SCHEDULE_HOST_SVC_DOWNTIME, DEL_DOWNTIME_BY_HOST_NAME; Nagios 4's external command reference) to its
// command pipe.
const downtime = `#!/bin/bash
# hipaa-nagios-downtime start MINUTES COMMENT HOST... | end COMMENT HOST...: announce planned work on
# hosts to Nagios as downtime, and end it.
set -euo pipefail
pipe=%s
usage() { echo "usage: ${0##*/} start MINUTES COMMENT HOST... | end COMMENT HOST..." >&2; exit 2; }
[ $# -ge 3 ] || usage
action=$1
if [ "$action" = start ]; then
  [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] || usage
  seconds=$(($2 * 60))
  shift
fi
comment=$2
shift 2
if [ $# -lt 1 ] || ! [[ $comment =~ ^[^\;[:cntrl:]]+$ ]]; then usage; fi
for host in "$@"; do
  [[ $host =~ ^[A-Za-z0-9._-]+$ ]] || usage
done
[ -p "$pipe" ] || { echo "Nagios is not running: $pipe is not its command pipe" >&2; exit 1; }
now=$(date +%%s)
for host in "$@"; do
  case $action in
  start)
    printf '[%%s] SCHEDULE_HOST_DOWNTIME;%%s;%%s;%%s;1;0;%%s;platformctl;%%s\n' "$now" "$host" "$now" "$((now + seconds))" "$seconds" "$comment"
    printf '[%%s] SCHEDULE_HOST_SVC_DOWNTIME;%%s;%%s;%%s;1;0;%%s;platformctl;%%s\n' "$now" "$host" "$now" "$((now + seconds))" "$seconds" "$comment" ;;
  end)
    # The host's and its services' downtimes with this comment, whenever they started.
    printf '[%%s] DEL_DOWNTIME_BY_HOST_NAME;%%s;;0;%%s\n' "$now" "$host" "$comment" ;;
  *) usage ;;
  esac
done > "$pipe"
`

const apachePorts = "# The Nagios web interface: loopback only, reached through Session Manager port forwarding.\nListen 127.0.0.1:80\n"

// TopicArn is the alert topic's ARN, known before deployment from its fixed name.
func TopicArn(partition, region, account, name string) string {
	return fmt.Sprintf("arn:%s:sns:%s:%s:%s-alerts", partition, region, account, name)
}

// Converge is how the Nagios host converges.
func Converge(name, region string) converge.Host {
	return converge.Host{
		Name: name, Unit: "hipaa-monitoring-converge", Description: "converge the Nagios host to its rendered configuration",
		Region: region, AWSCLI: "/usr/bin/aws", StateDir: converge.StateDir, LogFile: converge.LogFile, Every: converge.Every,
	}
}

// Bundle is the Nagios host's whole setup, as files: the generated configuration staged under
// /etc/hipaa/nagios, the notification script, Apache on loopback, the CloudWatch agent's configuration,
// and the converge script with its units. p are the parameters files were rendered from. Every part is
// known before deployment, so a preview shows exactly what the host will run.
func Bundle(name string, a *MonitoringArgs, p nagios.Params, files nagios.Files) ([]cloudinit.File, error) {
	var body bytes.Buffer
	if err := steps.Execute(&body, map[string]string{
		"PKIDir": pkiDir, "TLSSecret": a.Database.TLSSecret, "PasswordSecret": a.Database.PasswordSecret,
		"StateDir": p.StateDir, "LogDir": p.LogDir, "ConfigDir": p.Dir, "NotifyCommand": p.NotifyCommand, "DowntimeCommand": DowntimeCommand,
		"CredentialFile": p.CredentialFile, "CredentialMacro": strings.ReplaceAll(nagios.CredentialMacro, "$", `\$`),
	}); err != nil {
		return nil, err
	}
	var out []cloudinit.File
	if w := a.Database.Witness; w != nil {
		e := *w
		e.DataDir = "/var/lib/etcd/" + e.Scope
		e.TLS = hostconfig.TLSFiles{CertFile: witnessTLSDir + "/server.crt", KeyFile: witnessTLSDir + "/server.key", CAFile: witnessTLSDir + "/ca.crt"}
		env, err := hostconfig.EtcdConfig(e)
		if err != nil {
			return nil, err
		}
		steps, err := hostconfig.EtcdSteps(e, hostconfig.TLSFiles{CertFile: pkiDir + "/client.crt", KeyFile: pkiDir + "/client.key", CAFile: pkiDir + "/ca.crt"}, witnessConfig)
		if err != nil {
			return nil, err
		}
		body.WriteString(steps)
		out = append(out, cloudinit.File{Path: witnessConfig, Permissions: "0600", Content: env})
	}
	for _, n := range files.Names() {
		out = append(out, cloudinit.File{Path: path.Join("/etc/hipaa/nagios", n), Permissions: "0640", Content: files[n]})
	}
	agent := cloudinit.Agent{DiskPaths: []string{"/"}, LogGroup: hostrole.LogGroupName(name),
		Logs: []cloudinit.LogFile{Converge(name, a.Region).AgentLog(), {Path: p.LogDir + "/nagios.log", Stream: "nagios"}}}
	out = append(out,
		cloudinit.File{Path: "/etc/hipaa/hipaa-notify", Permissions: "0644", Content: fmt.Sprintf(notify, a.Region, TopicArn(iampolicy.Partition(a.Region), a.Region, a.AccountID, name))},
		cloudinit.File{Path: "/etc/hipaa/hipaa-nagios-downtime", Permissions: "0644", Content: fmt.Sprintf(downtime, p.StateDir+"/rw/nagios.cmd")},
		cloudinit.File{Path: "/etc/hipaa/apache-ports.conf", Permissions: "0644", Content: apachePorts},
		cloudinit.File{Path: "/etc/hipaa/cloudwatch-agent.json", Permissions: "0644", Content: agent.Config()},
	)
	own, err := Converge(name, a.Region).Files(body.String())
	if err != nil {
		return nil, err
	}
	return append(out, own...), nil
}
