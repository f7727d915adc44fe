// Package egress is the dispatcher's way out: the SSRF guard that decides which addresses an
// outbound webhook may reach (checked when a subscription is created and again at every
// connection, after resolution, so a DNS answer that changed since cannot point a delivery at
// an internal address) and the HTTP sender that uses it. Safe for concurrent use.
package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

// Guard decides which addresses webhooks may reach: public unicast addresses, plus what the
// allow-list (ACCRUE_WEBHOOK_ALLOW) names.
type Guard struct {
	prefixes []netip.Prefix
	hosts    map[string]bool
	resolver *net.Resolver
}

// NewGuard parses the allow-list: comma-separated CIDRs ("10.0.0.0/8"), addresses
// ("127.0.0.1") and host names ("hooks.internal"). Empty allows only public addresses.
func NewGuard(allow string) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}, resolver: net.DefaultResolver}
	for _, e := range strings.Split(allow, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("ACCRUE_WEBHOOK_ALLOW: %q is not a CIDR", e)
			}
			g.prefixes = append(g.prefixes, p.Masked())
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			g.hosts[strings.ToLower(e)] = true
		}
	}
	return g, nil
}

// Allowed reports whether a may be reached.
func (g *Guard) Allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return !forbidden(a)
}

// forbidden: loopback, link-local (169.254/16, fe80::/10, cloud metadata), private (RFC 1918,
// ULA fc00::/7), shared CGNAT space, unspecified, multicast.
func forbidden(a netip.Addr) bool {
	return !a.IsValid() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsPrivate() || a.IsUnspecified() ||
		cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckURL checks a subscription's URL: an absolute http(s) URL whose host resolves only to
// allowed addresses (or is allow-listed by name).
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return subscription.ErrURLInvalid
	}
	_, err = g.resolve(ctx, u.Hostname())
	return err
}

// resolve returns host's addresses when every one of them is allowed.
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if !g.hosts[strings.ToLower(host)] && !g.Allowed(a) {
			return nil, subscription.ErrURLForbidden.With("address "+a.String()+" is not allowed", "address", a.String())
		}
		return []netip.Addr{a}, nil
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, subscription.ErrURLInvalid.With("the host "+host+" does not resolve", "host", host)
	}
	if g.hosts[strings.ToLower(host)] {
		return addrs, nil
	}
	for _, a := range addrs {
		if !g.Allowed(a) {
			return nil, subscription.ErrURLForbidden.With("host "+host+" resolves to "+a.Unmap().String()+", which is not allowed",
				"host", host, "address", a.Unmap().String())
		}
	}
	return addrs, nil
}

// DialContext dials addr (host:port) after resolving and checking the host: the connection goes
// to a checked address, never to one resolved again later.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	var last error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}
