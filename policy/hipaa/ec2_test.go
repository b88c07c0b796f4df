package hipaa

import "testing"

func TestDedicatedTenancy(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &dedicatedTenancy, fx{typ: tVpc, name: "vpc", props: map[string]any{"instanceTenancy": "dedicated"}}, []change{
		{"default", "instanceTenancy", "default", []string{`instanceTenancy: instanceTenancy is "default"; set it to dedicated`}},
		{"unset", "instanceTenancy", del, []string{"instanceTenancy: instanceTenancy is not set; set it to dedicated"}},
	})
	testResourceRule(t, &dedicatedTenancy, fx{typ: tInstance, name: "i", props: map[string]any{"tenancy": "dedicated"}}, []change{
		{"host is fine", "tenancy", "host", nil},
		{"default", "tenancy", "default", []string{`tenancy: tenancy is "default"; set it to dedicated (or host)`}},
	})
	testResourceRule(t, &dedicatedTenancy, fx{typ: tLaunchTemplate, name: "lt", props: map[string]any{"placement": map[string]any{"tenancy": "dedicated"}}}, []change{
		{"unset", "placement", del, []string{"placement.tenancy: placement.tenancy is not set; set it to dedicated (or host)"}},
		{"unknown", "placement.tenancy", unknown, []string{"placement.tenancy: placement.tenancy cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}

func TestNoPublicIP(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &noPublicIP, fx{typ: tInstance, name: "i", props: map[string]any{"associatePublicIpAddress": false}}, []change{
		{"public", "associatePublicIpAddress", true, []string{"associatePublicIpAddress: associatePublicIpAddress is true; hosts take no public IP"}},
	})
	testResourceRule(t, &noPublicIP, fx{typ: tLaunchTemplate, name: "lt", props: map[string]any{
		"networkInterfaces": []any{map[string]any{"associatePublicIpAddress": "false"}}}}, []change{
		{"public", "networkInterfaces.0.associatePublicIpAddress", "true", []string{"networkInterfaces[0].associatePublicIpAddress: networkInterfaces[0].associatePublicIpAddress is true; hosts take no public IP"}},
	})
	testResourceRule(t, &noPublicIP, fx{typ: tSubnet, name: "app", props: map[string]any{
		"mapPublicIpOnLaunch": false, "tags": map[string]any{"Tier": "app"}}}, []change{
		{"private subnet maps", "mapPublicIpOnLaunch", true, []string{"mapPublicIpOnLaunch: mapPublicIpOnLaunch is true on a subnet not tagged Tier: public"}},
		{"public subnet may map", "tags.Tier", "public", nil},
	})
}

var compliantInstance = map[string]any{
	"metadataOptions": map[string]any{"httpTokens": "required"}, "iamInstanceProfile": "web-profile", "monitoring": true,
}

var compliantTemplate = map[string]any{
	"metadataOptions": map[string]any{"httpTokens": "required"}, "iamInstanceProfile": map[string]any{"arn": "arn:aws:iam::123456789012:instance-profile/web"},
	"monitoring": map[string]any{"enabled": true},
}

func TestEc2Imdsv2(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &ec2Imdsv2, fx{typ: tInstance, name: "i", props: compliantInstance}, []change{
		{"optional", "metadataOptions.httpTokens", "optional", []string{`metadataOptions.httpTokens: metadataOptions.httpTokens is "optional"; set it to "required" so instance credentials cannot be stolen through IMDSv1`}},
		{"unset", "metadataOptions", del, []string{`metadataOptions.httpTokens: metadataOptions.httpTokens is not set; set it to "required" so instance credentials cannot be stolen through IMDSv1`}},
	})
	testResourceRule(t, &ec2Imdsv2, fx{typ: tLaunchTemplate, name: "lt", props: compliantTemplate}, []change{
		{"optional", "metadataOptions.httpTokens", "optional", []string{`metadataOptions.httpTokens: metadataOptions.httpTokens is "optional"; set it to "required" so instance credentials cannot be stolen through IMDSv1`}},
	})
}

func TestEc2InstanceProfile(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &ec2InstanceProfile, fx{typ: tInstance, name: "i", props: compliantInstance}, []change{
		{"none", "iamInstanceProfile", del, []string{"iamInstanceProfile: iamInstanceProfile is not set"}},
	})
	testResourceRule(t, &ec2InstanceProfile, fx{typ: tLaunchTemplate, name: "lt", props: compliantTemplate}, []change{
		{"none", "iamInstanceProfile", del, []string{"iamInstanceProfile: iamInstanceProfile has neither name nor arn"}},
		{"by name", "iamInstanceProfile", map[string]any{"name": "web"}, nil},
	})
}

func TestEc2DetailedMonitoring(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &ec2DetailedMonitoring, fx{typ: tInstance, name: "i", props: compliantInstance}, []change{
		{"off", "monitoring", false, []string{"monitoring: monitoring is false; set it to true for one-minute metrics"}},
	})
	testResourceRule(t, &ec2DetailedMonitoring, fx{typ: tLaunchTemplate, name: "lt", props: compliantTemplate}, []change{
		{"unset", "monitoring", del, []string{"monitoring.enabled: monitoring.enabled is not set; set it to true for one-minute metrics"}},
	})
}

func TestLbHTTPSOnly(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &lbHTTPSOnly, fx{typ: tListener, name: "https", props: map[string]any{
		"protocol": "HTTPS", "port": 443.0, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}}, []change{
		{"old policy", "sslPolicy", "ELBSecurityPolicy-2016-08", []string{`sslPolicy: sslPolicy is "ELBSecurityPolicy-2016-08"; use a policy that allows only TLS 1.2 or newer, such as ELBSecurityPolicy-TLS13-1-2-2021-06`}},
		{"no policy", "sslPolicy", del, []string{"sslPolicy: sslPolicy is not set; use a policy that allows only TLS 1.2 or newer, such as ELBSecurityPolicy-TLS13-1-2-2021-06"}},
		{"plain TCP", "protocol", "TCP", []string{`protocol: protocol is "TCP"; use HTTPS (or TLS), or HTTP that only redirects`}},
	})
	testResourceRule(t, &lbHTTPSOnly, fx{typ: tListener, name: "http", props: map[string]any{
		"protocol": "HTTP", "port": 80.0, "defaultActions": []any{map[string]any{"type": "redirect",
			"redirect": map[string]any{"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}}}}, []change{
		{"forwards", "defaultActions.0.type", "forward", []string{`defaultActions[0]: defaultActions[0] on an HTTP listener is "forward", not a redirect to HTTPS`}},
		{"redirects to http", "defaultActions.0.redirect.protocol", "HTTP", []string{`defaultActions[0]: defaultActions[0] on an HTTP listener is "redirect", not a redirect to HTTPS`}},
	})
}

var compliantLoadBalancer = map[string]any{
	"loadBalancerType": "application", "dropInvalidHeaderFields": true, "desyncMitigationMode": "strictest",
	"accessLogs": map[string]any{"enabled": true, "bucket": "hipaa-prod-lb-logs-123456789012", "prefix": "web"},
}

func TestLbAccessLogging(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &lbAccessLogging, fx{typ: tLoadBalancer, name: "lb", props: compliantLoadBalancer}, []change{
		{"off", "accessLogs.enabled", false, []string{"accessLogs.enabled: accessLogs.enabled is false; set it to true so every request is recorded"}},
		{"none", "accessLogs", del, []string{"accessLogs.enabled: accessLogs.enabled is not set; set it to true so every request is recorded",
			"accessLogs.bucket: accessLogs.bucket is not set; name the load balancers' log bucket"}},
		{"gateway", "loadBalancerType", "gateway", nil},
	})
}

func TestLbDropInvalidHeaders(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &lbDropInvalidHeaders, fx{typ: tLoadBalancer, name: "lb", props: compliantLoadBalancer}, []change{
		{"kept", "dropInvalidHeaderFields", false, []string{"dropInvalidHeaderFields: dropInvalidHeaderFields is false; set it to true so malformed headers cannot smuggle requests to the hosts"}},
		{"unset", "dropInvalidHeaderFields", del, []string{"dropInvalidHeaderFields: dropInvalidHeaderFields is not set; set it to true so malformed headers cannot smuggle requests to the hosts"}},
		{"monitor only", "desyncMitigationMode", "monitor", []string{`desyncMitigationMode: desyncMitigationMode is "monitor", which lets desync requests through; use "defensive" or "strictest"`}},
		{"network", "loadBalancerType", "network", nil},
	})
}
