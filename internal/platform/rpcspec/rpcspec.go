// Package rpcspec reads the Accrue method options declared in the protobuf contracts
// (accrue.common.v1.required_scope, idempotent and legal_entity_scoped) from the registered
// descriptors, so the gateway and every service enforce the same rules from the same source.
// Lookups are cached and safe for concurrent use.
package rpcspec

import (
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
