package wire

import (
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// The responses of the gRPC API, one per use case's result.

// UpsertResourceResponse answers UpsertResource: the resource and what the write did.
func UpsertResourceResponse(r resource.Resource, out resource.Outcome) *resourcev1.UpsertResourceResponse {
	return &resourcev1.UpsertResourceResponse{Resource: Resource(r), Outcome: Outcome(out)}
}

// GetResourceResponse answers GetResource.
func GetResourceResponse(r resource.Resource) *resourcev1.GetResourceResponse {
	return &resourcev1.GetResourceResponse{Resource: Resource(r)}
}

// SetCostRateResponse answers SetCostRate: the rates now in effect and how many assignments were
// re-costed.
func SetCostRateResponse(t resource.Timeline, recosted int) *resourcev1.SetCostRateResponse {
	return &resourcev1.SetCostRateResponse{Current: Rates(t), RecostedAssignments: int32(recosted)}
}

// CostRatesResponse answers ListCostRates: the rates in effect and, when asked, their history.
func CostRatesResponse(cur resource.Timeline, hist []resource.HistoricRate) *resourcev1.ListCostRatesResponse {
	return &resourcev1.ListCostRatesResponse{Current: Rates(cur), History: History(hist)}
}

// UtilizationResponse answers GetUtilization.
func UtilizationResponse(list []resource.UtilizationPeriod) *resourcev1.GetUtilizationResponse {
	return &resourcev1.GetUtilizationResponse{Periods: UtilizationPeriods(list)}
}

// CreateAssignmentResponse answers CreateAssignment: the new assignment and the warnings of its
// plan.
func CreateAssignmentResponse(a resource.Assignment, warnings []string) *resourcev1.CreateAssignmentResponse {
	return &resourcev1.CreateAssignmentResponse{Assignment: Assignment(a), Created: true, Warnings: warnings}
}

// UpdateAssignmentResponse answers UpdateAssignment: the assignment and the warnings of its plan.
func UpdateAssignmentResponse(a resource.Assignment, warnings []string) *resourcev1.UpdateAssignmentResponse {
	return &resourcev1.UpdateAssignmentResponse{Assignment: Assignment(a), Warnings: warnings}
}

// GetAssignmentResponse answers GetAssignment.
func GetAssignmentResponse(a resource.Assignment) *resourcev1.GetAssignmentResponse {
	return &resourcev1.GetAssignmentResponse{Assignment: Assignment(a)}
}
