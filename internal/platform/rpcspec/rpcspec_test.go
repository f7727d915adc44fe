package rpcspec_test

import (
	"testing"

	_ "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/rpcspec"
)

func TestLookupReadsContractOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method string
		want   rpcspec.Method
	}{
		{"/accrue.ops.v1.ExceptionService/ListExceptions", rpcspec.Method{Known: true, Scope: "ops:read"}},
		{"/accrue.ops.v1.ExceptionService/ResolveException", rpcspec.Method{Known: true, Scope: "ops:write"}},
		{"/accrue.customer.v1.CustomerService/CreateCustomer", rpcspec.Method{Known: true, Scope: "customers:write", Idempotent: true}},
		{"/accrue.customer.v1.CustomerService/GetCustomer", rpcspec.Method{Known: true, Scope: "customers:read"}},
		{"/accrue.customer.v1.CustomerService/DropAllCustomers", rpcspec.Method{}},
		{"/accrue.nope.v1.Nothing/Get", rpcspec.Method{}},
		{"garbage", rpcspec.Method{}},
	}
	for _, tc := range cases {
		for range 2 { // the second lookup is served from the cache
			if got := rpcspec.Lookup(tc.method); got != tc.want {
				t.Errorf("Lookup(%s) = %+v, want %+v", tc.method, got, tc.want)
			}
		}
	}
}

func TestPublic(t *testing.T) {
	t.Parallel()
	for m, want := range map[string]bool{
		"/grpc.health.v1.Health/Check":                                   true,
		"/grpc.health.v1.Health/Watch":                                   true,
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
		"/accrue.ops.v1.ExceptionService/ListExceptions":                 false,
		"/grpc.health.v1.HealthX/Check":                                  false,
	} {
		if got := rpcspec.Public(m); got != want {
			t.Errorf("Public(%s) = %v, want %v", m, got, want)
		}
	}
}
