// Package rpcspec reads the Accrue method options declared in the protobuf contracts
// (accrue.common.v1.required_scope, idempotent and legal_entity_scoped) from the registered
// descriptors, so the gateway and every service enforce the same rules from the same source.
// Lookups are cached and safe for concurrent use.
package rpcspec

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// Method is what the contract says about one RPC.
type Method struct {
	// Known is false when the method is not in any registered Accrue contract.
	Known bool
	// Scope is the OAuth2 scope the caller needs ("" means none declared: refuse).
	Scope string
	// Idempotent marks mutating RPCs that honour an Idempotency-Key.
	Idempotent bool
	// LegalEntityScoped marks RPCs that read or write legal-entity-owned data: the service checks
	// the caller's accrue_legal_entities claim (accrue.common.v1.legal_entity_scoped).
	LegalEntityScoped bool
}

var cache sync.Map // full method → Method

// Lookup returns the contract of fullMethod ("/accrue.customer.v1.CustomerService/CreateCustomer").
func Lookup(fullMethod string) Method {
	if m, ok := cache.Load(fullMethod); ok {
		return m.(Method)
	}
	m := lookup(fullMethod)
	cache.Store(fullMethod, m)
	return m
}

func lookup(fullMethod string) Method {
	svc, name, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return Method{}
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return Method{}
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return Method{}
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return Method{}
	}
	opts := md.Options()
	return Method{
		Known:             true,
		Scope:             proto.GetExtension(opts, commonv1.E_RequiredScope).(string),
		Idempotent:        proto.GetExtension(opts, commonv1.E_Idempotent).(bool),
		LegalEntityScoped: proto.GetExtension(opts, commonv1.E_LegalEntityScoped).(bool),
	}
}

// Public reports whether fullMethod belongs to the standard gRPC health or reflection services,
// which need no token (probes and grpcurl).
func Public(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1alpha.ServerReflection/")
}

// Calls returns the RPCs (full method names, sorted) that the contract of service (a full
// service name, "accrue.project.v1.ProjectService") declares its process calls
// (accrue.common.v1.calls).
func Calls(service string) []string {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	out := slices.Clone(proto.GetExtension(sd.Options(), commonv1.E_Calls).([]string))
	slices.Sort(out)
	return out
}

// ProcessCalls returns the RPCs the process of an Accrue service ("project") calls: the calls
// declared by every service of its package (accrue.<name>.v1), sorted. Only registered
// contracts count: the caller imports the generated packages.
func ProcessCalls(name string) []string {
	var out []string
	pkg := protoreflect.FullName("accrue." + name + ".v1")
	protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			for _, m := range Calls(string(fd.Services().Get(i).FullName())) {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

// CallScopes returns the scopes (sorted) the token of process name needs: the scopes its
// ProcessCalls require, and no other. A declared call that no contract knows, or that declares
// no scope, is an error.
func CallScopes(name string) ([]string, error) {
	var out []string
	for _, m := range ProcessCalls(name) {
		spec := Lookup(m)
		if !spec.Known || spec.Scope == "" {
			return nil, fmt.Errorf("rpcspec: %s calls %s, which no registered contract declares with a scope", name, m)
		}
		if !slices.Contains(out, spec.Scope) {
			out = append(out, spec.Scope)
		}
	}
	slices.Sort(out)
	return out, nil
}
