package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/policy/engine"
)

var lbHTTPSOnly = engine.Rule{
	ID:          "lb-https-only",
	Description: "Load balancer listeners use HTTPS or TLS with a TLS 1.2+ policy, or HTTP that only redirects to HTTPS",
	Citations:   []string{"164.312(e)(1)", "164.312(e)(2)(ii)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"alb-http-to-https-redirection-check", "elbv2-listener-encryption-in-transit", "elb-tls-https-listeners-only", "elb-predefined-security-policy-ssl-check"},
		Prowler:     []string{"elbv2_ssl_listeners", "elbv2_insecure_ssl_ciphers", "elb_ssl_listeners", "elb_insecure_ssl_ciphers"},
	},
	Fix:   "Use protocol HTTPS with sslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06 (or newer); an HTTP listener's only default action redirects to HTTPS.",
	Types: []string{tListener, tAlbListener},
	Resource: func(c *engine.Check, r *engine.Resource) {
		proto := r.Get("protocol")
		if proto.Unknown() {
			c.Unknown("protocol")
			return
		}
		switch strings.ToUpper(proto.Str()) {
		case "HTTPS", "TLS":
			switch p := r.Get("sslPolicy"); {
			case p.Unknown():
				c.Unknown("sslPolicy")
			case !check.ModernTLSPolicy(p.Str()):
				c.Fail("sslPolicy", "sslPolicy is %s; use a policy that allows only TLS 1.2 or newer, such as ELBSecurityPolicy-TLS13-1-2-2021-06", orUnset(p))
			}
		case "HTTP":
			actions := r.Get("defaultActions").Items()
			if len(actions) == 0 {
				c.Fail("defaultActions", "an HTTP listener without actions; it may only redirect to HTTPS")
			}
			for _, a := range actions {
				if a.Get("type").Str() != "redirect" || !strings.EqualFold(a.Get("redirect", "protocol").Str(), "HTTPS") {
					c.Fail(a.Path(), "%s on an HTTP listener is %q, not a redirect to HTTPS", a.Path(), a.Get("type").Str())
				}
			}
		default:
			c.Fail("protocol", "protocol is %s; use HTTPS (or TLS), or HTTP that only redirects", orUnset(proto))
		}
	},
}
