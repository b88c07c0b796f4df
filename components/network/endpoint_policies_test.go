package network

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

type policyStatement struct {
	Sid       string
	Effect    string
	Principal struct{ AWS []string }
	Action    []string
	Resource  []string
	Condition map[string]map[string]string
}

type policyDoc struct{ Statement []policyStatement }

func readPolicy(t *testing.T, doc string) policyDoc {
	t.Helper()
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %q: %v", doc, err)
	}
	return p
}

func TestTheEndpointsAdmitOnlyTheAccountsOwnResources(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.PeerAccounts = []string{"210987654321"}
	rs := vpc.MustRun(t, args)
	byService := map[string]string{}
	for _, e := range offlinetest.Of(rs, "aws:ec2/vpcEndpoint:VpcEndpoint") {
		svc := strings.TrimPrefix(e.String("serviceName"), "com.amazonaws.us-east-1.")
		byService[svc] = e.String("policy")
	}
	for _, svc := range []string{"ssmmessages", "ec2messages"} {
		if byService[svc] != "" {
			t.Errorf("%s has a policy, which its service may refuse", svc)
		}
	}
	for _, svc := range policyEndpoints {
		p := readPolicy(t, byService[svc])
		resourceAccounts := map[string]bool{}
		for _, s := range p.Statement {
			if s.Effect != "Allow" || !slices.Equal(s.Principal.AWS, []string{"*"}) || s.Condition["StringEquals"]["aws:PrincipalAccount"] != "123456789012" {
				t.Errorf("%s: statement %s admits %v under %v; want only the account's principals", svc, s.Sid, s.Principal.AWS, s.Condition)
			}
			if slices.Contains(s.Resource, "*") && slices.Contains(s.Action, "*") {
				resourceAccounts[s.Condition["StringEquals"]["aws:ResourceAccount"]] = true
			}
		}
		want := map[string]bool{"123456789012": true, "210987654321": true}
		if len(resourceAccounts) != 2 || !resourceAccounts["123456789012"] || !resourceAccounts["210987654321"] || resourceAccounts[""] {
			t.Errorf("%s admits every action on the resources of %v, want only %v", svc, resourceAccounts, want)
		}
	}
	if p := readPolicy(t, byService["ecr.dkr"]); !slices.ContainsFunc(p.Statement, func(s policyStatement) bool {
		return slices.Equal(s.Action, []string{"ecr:GetAuthorizationToken"}) && s.Condition["StringEquals"]["aws:ResourceAccount"] == ""
	}) {
		t.Error("ecr.dkr holds GetAuthorizationToken, which names no resource, to a resource account")
	}
	if ssm := byService["ssm"]; !strings.Contains(ssm, `"arn:aws:ssm:us-east-1::document/*"`) {
		t.Errorf("ssm's policy does not admit AWS's own documents: %s", ssm)
	}
	s3 := readPolicy(t, byService["s3"])
	if len(s3.Statement) != 2 || s3.Statement[0].Condition["StringEquals"]["aws:ResourceAccount"] != "123456789012" {
		t.Fatalf("S3 gateway policy %+v", s3)
	}
	owned := s3.Statement[1]
	if !slices.Equal(owned.Action, []string{"s3:GetObject"}) || len(owned.Condition) != 0 ||
		!slices.Contains(owned.Resource, "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*") ||
		!slices.Contains(owned.Resource, "arn:aws:s3:::amazon-ssm-us-east-1/*") ||
		!slices.Contains(owned.Resource, "arn:aws:s3:::amazoncloudwatch-agent-us-east-1/*") {
		t.Errorf("AWS-owned buckets statement %+v; want reads of ECR's layers and the agents' packages", owned)
	}
	// The peer's buckets are not the hosts' to reach: the S3 policy names this account alone.
	if strings.Contains(byService["s3"], "210987654321") {
		t.Error("the S3 endpoint admits the registry account's buckets")
	}

	// A network that builds images may read any bucket, write only the account's; a peer that is not an
	// account is refused.
	args = validArgs()
	args.BuildsImages = true
	for _, e := range offlinetest.Of(vpc.MustRun(t, args), "aws:ec2/vpcEndpoint:VpcEndpoint") {
		if !strings.HasSuffix(e.String("serviceName"), ".s3") {
			continue
		}
		p := readPolicy(t, e.String("policy"))
		reads := p.Statement[len(p.Statement)-1]
		if len(p.Statement) != 3 || !slices.Equal(reads.Action, []string{"s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"}) ||
			reads.Condition["StringEquals"]["aws:PrincipalAccount"] != "123456789012" {
			t.Errorf("the image builds' S3 endpoint policy %+v; want reads of any bucket by the account", p)
		}
	}
	args = validArgs()
	args.PeerAccounts = []string{"12"}
	vpc.Refused(t, args, `PeerAccounts[0] "12" is not a 12-digit AWS account ID`)
}
