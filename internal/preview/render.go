package preview

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/offline"
)

// hipaaProperties are the input properties, at any depth, that the tree shows: those an auditor looks at
// for tenancy, encryption, exposure, logging and retention.
var hipaaProperties = map[string]bool{
	"instanceTenancy": true, "cidrBlock": true, "availabilityZone": true, "mapPublicIpOnLaunch": true,
	"enableKeyRotation": true, "deletionWindowInDays": true, "kmsKeyId": true, "kmsMasterKeyId": true,
	"keyArn": true, "sseAlgorithm": true, "bucketKeyEnabled": true, "status": true,
	"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true,
	"objectOwnership": true, "retentionInDays": true, "trafficType": true, "logDestinationType": true,
	"type": true, "fromPort": true, "toPort": true, "cidrBlocks": true, "ipv6CidrBlocks": true,
	"sourceSecurityGroupId": true, "prefixListIds": true, "isMultiRegionTrail": true,
	"enableLogFileValidation": true, "enable": true, "enabled": true, "minimumPasswordLength": true,
	"passwordReusePrevention": true, "maxPasswordAge": true, "mode": true, "days": true,
	"noncurrentDays": true, "targetPrefix": true, "privateDnsEnabled": true, "vpcEndpointType": true,
	"serviceName": true, "objectLockEnabled": true, "DataClass": true,
	"tenancy": true, "httpTokens": true, "associatePublicIpAddress": true, "privateIp": true,
	"imageTagMutability": true, "scanOnPush": true, "protocol": true, "sslPolicy": true, "dropInvalidHeaderFields": true,
	"metricName": true, "comparisonOperator": true, "threshold": true, "treatMissingData": true, "alarmActions": true,
	"registryId": true, "filter": true, "region": true,
}

// policyProperties hold policy documents; the tree shows their statement IDs.
var policyProperties = map[string]bool{"policy": true, "assumeRolePolicy": true}

// JSON writes the resources as one JSON array in the preview contract.
func JSON(w io.Writer, resources []offline.Resource) error {
	out := make([]offline.JSON, len(resources))
	for i, r := range resources {
		out[i] = r.JSON()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// Tree writes the resources as a tree under the stack, each with its HIPAA-relevant properties, then a
// count by type.
func Tree(w io.Writer, stack string, resources []offline.Resource) error {
	children := map[string][]offline.Resource{}
	known := map[string]bool{}
	// names lets the tree show "sg-0a1b..." as the group's name.
	names := map[string]string{}
	for _, r := range resources {
		known[r.URN] = true
		if r.ID != "" {
			names[r.ID] = r.Name
		}
	}
	for _, r := range resources {
		parent := r.Parent
		if !known[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], r)
	}
	fmt.Fprintf(w, "stack %s: %d resources\n", stack, len(resources))
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		kids := children[parent]
		for i, r := range kids {
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			fmt.Fprintf(w, "%s%s%s %s", indent, branch, r.Type, r.Name)
			fmt.Fprint(w, optionMarks(r.Options))
			if props := summary(offline.PlainMap(r.Inputs), names); props != "" {
				fmt.Fprintf(w, "  %s", props)
			}
			fmt.Fprintln(w)
			walk(r.URN, indent+next)
		}
	}
	walk("", "")

	counts := map[string]int{}
	for _, r := range resources {
		counts[r.Type]++
	}
	fmt.Fprintln(w, "\nresources by type:")
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(w, "  %4d  %s\n", counts[t], t)
	}
	return nil
}

// summary renders the HIPAA-relevant properties of one resource's inputs as key=value pairs.
func summary(inputs map[string]any, names map[string]string) string {
	var parts []string
	var visit func(path string, v any)
	visit = func(path string, v any) {
		key := path[strings.LastIndex(path, ".")+1:]
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				visit(path+"."+k, v[k])
			}
		case []any:
			if hipaaProperties[key] {
				for i, e := range v {
					if n, ok := names[fmt.Sprint(e)]; ok {
						v[i] = n
					}
				}
				parts = append(parts, fmt.Sprintf("%s=%v", strings.TrimPrefix(path, "."), v))
				return
			}
			for _, e := range v {
				visit(path, e)
			}
		case string:
			if policyProperties[key] {
				if sids := statementIDs(v); sids != "" {
					parts = append(parts, fmt.Sprintf("%s=[%s]", strings.TrimPrefix(path, "."), sids))
				}
				return
			}
			if hipaaProperties[key] {
				if n, ok := names[v]; ok {
					v = n
				}
				parts = append(parts, fmt.Sprintf("%s=%s", strings.TrimPrefix(path, "."), v))
			}
		default:
			if hipaaProperties[key] {
				parts = append(parts, fmt.Sprintf("%s=%v", strings.TrimPrefix(path, "."), v))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		if k == "tags" || k == "tagsAll" {
			if t, ok := inputs[k].(map[string]any); ok && t["DataClass"] != nil {
				visit(".tags", map[string]any{"DataClass": t["DataClass"]})
			}
			continue
		}
		visit("."+k, inputs[k])
	}
	return strings.Join(parts, " ")
}

// statementIDs lists a policy document's statements as Effect:Sid, each followed by the other accounts
// it names as principals, so that what a policy admits from outside its own account shows.
func statementIDs(doc string) string {
	var p struct {
		Statement []struct {
			Sid       string
			Effect    string
			Principal struct{ AWS any }
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) == 0 {
		return ""
	}
	var ids []string
	for _, s := range p.Statement {
		id := s.Effect + ":" + s.Sid
		if accounts := principalAccounts(s.Principal.AWS); len(accounts) > 0 {
			id += "(" + strings.Join(accounts, " ") + ")"
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}

// principalAccounts are the accounts of a statement's AWS principals (a string or a list of ARNs or
// account IDs) other than the offline preview's own.
func principalAccounts(v any) []string {
	var arns []string
	switch v := v.(type) {
	case string:
		arns = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				arns = append(arns, s)
			}
		}
	}
	var out []string
	for _, a := range arns {
		if parts := strings.Split(a, ":"); len(parts) >= 5 && parts[4] != offline.AccountID {
			out = append(out, parts[4])
		} else if len(parts) == 1 && a != offline.AccountID && a != "*" {
			out = append(out, a)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// optionMarks are the resource options that change what an update does, as the tree shows them.
func optionMarks(o offline.ResourceOptions) string {
	var marks []string
	if o.Protect {
		marks = append(marks, "protected")
	}
	if o.RetainOnDelete {
		marks = append(marks, "retained on delete")
	}
	if o.DeleteBeforeReplace {
		marks = append(marks, "delete before replace")
	}
	if len(o.IgnoreChanges) > 0 {
		marks = append(marks, "ignores "+strings.Join(o.IgnoreChanges, ","))
	}
	if o.Import != "" {
		marks = append(marks, "adopts "+o.Import)
	}
	if len(marks) == 0 {
		return ""
	}
	return " [" + strings.Join(marks, "; ") + "]"
}
