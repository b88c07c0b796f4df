// Package iampolicy writes IAM and resource policy documents as Go values, so that a key policy, a bucket
// policy and a role's trust policy are built, and tested, as data rather than as JSON text.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document. Principal is nil in identity policies.
type Statement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal *Principal                   `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// Principal names who a resource policy statement applies to. A wildcard principal is deliberately not
// expressible here.
type Principal struct {
	AWS     []string `json:"AWS,omitempty"`
	Service []string `json:"Service,omitempty"`
}

// New returns a document of the current policy language version.
func New(statements ...Statement) Document {
	return Document{Version: "2012-10-17", Statement: statements}
}

// JSON renders the document.
func (d Document) JSON() string {
	b, err := json.Marshal(d)
	if err != nil {
		// Every field is a string, slice or map of strings: marshalling cannot fail.
		panic(fmt.Sprintf("iampolicy: %v", err))
	}
	return string(b)
}

// Allow returns an Allow statement.
func Allow(sid string, actions, resources []string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// Deny returns a Deny statement.
func Deny(sid string, actions, resources []string) Statement {
	return Statement{Sid: sid, Effect: "Deny", Action: actions, Resource: resources}
}

// ForAccount names the account root as the principal: access is then granted by the account's own IAM
// policies.
func (s Statement) ForAccount(partition, accountID string) Statement {
	return s.ForAccounts(partition, []string{accountID})
}

// ForAccounts names the accounts' roots as the principal, each once, in order.
func (s Statement) ForAccounts(partition string, accountIDs []string) Statement {
	var roots []string
	for _, a := range slices.Compact(slices.Sorted(slices.Values(accountIDs))) {
		roots = append(roots, AccountRoot(partition, a))
	}
	s.Principal = &Principal{AWS: roots}
	return s
}

// ForAnyAWS applies the statement to every AWS principal, only for Deny statements that guard a resource
// (for example, refusing requests without TLS); an Allow to everyone is refused.
func (s Statement) ForAnyAWS() Statement {
	if s.Effect != "Deny" {
		panic("iampolicy: a wildcard principal is only for Deny statements")
	}
	s.Principal = &Principal{AWS: []string{"*"}}
	return s
}

// ForAnyAWSOf applies an Allow to every AWS principal of one account only, as a VPC endpoint policy
// states who may use the endpoint (aws:PrincipalAccount): a wildcard principal held to the account.
func (s Statement) ForAnyAWSOf(accountID string) Statement {
	s.Principal = &Principal{AWS: []string{"*"}}
	return s.When("StringEquals", "aws:PrincipalAccount", accountID)
}

// ForService names AWS services as the principal.
func (s Statement) ForService(services ...string) Statement {
	s.Principal = &Principal{Service: services}
	return s
}

// When adds a condition.
func (s Statement) When(operator, key, value string) Statement {
	c := map[string]map[string]string{}
	for k, v := range s.Condition {
		c[k] = v
	}
	inner := map[string]string{}
	for k, v := range c[operator] {
		inner[k] = v
	}
	inner[key] = value
	c[operator] = inner
	s.Condition = c
	return s
}

// Partition is the AWS partition a region belongs to.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}

// LogGroupArn is a CloudWatch Logs group's ARN, known from its name before the group exists, so that a
// policy naming it can be checked in a preview.
func LogGroupArn(region, accountID, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", Partition(region), region, accountID, name)
}

// AccountRoot is the ARN of an account's root principal.
func AccountRoot(partition, accountID string) string {
	return fmt.Sprintf("arn:%s:iam::%s:root", partition, accountID)
}
