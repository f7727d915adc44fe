package app_test

import (
	"reflect"
	"slices"
	"testing"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/rpcspec"
	"github.com/accrue/accrue/services/project/internal/app"
)

// TestCallsMatchTheContract: the RPCs the project service's use cases can call (the methods of
// their client interfaces) are exactly those the contract declares for the service, so the
// token minted from the contract (accruectl service-scopes) carries every scope the calls need
// and no other.
func TestCallsMatchTheContract(t *testing.T) {
	var used []string
	for _, c := range []struct {
		iface   reflect.Type
		service string
	}{
		{reflect.TypeFor[app.CustomerCalls](), customerv1.CustomerService_ServiceDesc.ServiceName},
		{reflect.TypeFor[app.ContractCalls](), billingv1.ContractService_ServiceDesc.ServiceName},
	} {
		for i := range c.iface.NumMethod() {
			used = append(used, "/"+c.service+"/"+c.iface.Method(i).Name)
		}
	}
	slices.Sort(used)
	declared := rpcspec.Calls(projectv1.ProjectService_ServiceDesc.ServiceName)
	if !slices.Equal(used, declared) {
		t.Fatalf("the use cases call %v; the contract declares %v", used, declared)
	}
	scopes, err := rpcspec.CallScopes("project")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"billing:write", "customers:read", "customers:write"}; !slices.Equal(scopes, want) {
		t.Fatalf("the project service's token scopes = %v, want %v", scopes, want)
	}
}
