package wire

import (
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

// The responses of the gRPC API, one per use case's result.

// CreateResponse answers CreateCustomer: the customer and whether this call created it.
func CreateResponse(c customer.Customer, created bool) *customerv1.CreateCustomerResponse {
	return &customerv1.CreateCustomerResponse{Customer: Customer(c), Created: created}
}

// UpsertResponse answers UpsertCustomer: the customer and what the write did.
func UpsertResponse(c customer.Customer, out customer.Outcome) *customerv1.UpsertCustomerResponse {
	return &customerv1.UpsertCustomerResponse{Customer: Customer(c), Outcome: Outcome(out)}
}

// GetResponse answers GetCustomer.
func GetResponse(c customer.Customer) *customerv1.GetCustomerResponse {
	return &customerv1.GetCustomerResponse{Customer: Customer(c)}
}

// UpdateResponse answers UpdateCustomer.
func UpdateResponse(c customer.Customer) *customerv1.UpdateCustomerResponse {
	return &customerv1.UpdateCustomerResponse{Customer: Customer(c)}
}

// LookupResponse answers LookupCustomer.
func LookupResponse(c customer.Customer) *customerv1.LookupCustomerResponse {
	return &customerv1.LookupCustomerResponse{Customer: Customer(c)}
}
