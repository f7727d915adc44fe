package app

import "github.com/accrue/accrue/services/project/internal/project"

// Exception kinds of the conversion.
const (
	// KindConversion records a conversion that failed (bad input or a dependency down); it is
	// resolved by the next successful conversion of the same opportunity.
	KindConversion = "opportunity.conversion"
	// KindActivation records a project waiting for its contract because billing was
	// unavailable; retried automatically with backoff, or from the exception queue.
	KindActivation = "project.financial_activation"
)

// ReasonBillingUnavailable is the reason of pending financial activations.
const ReasonBillingUnavailable = "BILLING_UNAVAILABLE"

// resolvedBySuccess is the resolution note of a failed conversion's exception.
const resolvedBySuccess = "a later conversion succeeded"

func conversionKey(crm, oppID string) string { return KindConversion + ":" + crm + ":" + oppID }

func activationKey(projectID string) string { return KindActivation + ":" + projectID }

// finish fills the result's project part from p, the version converted and the message.
func finish(r *project.ConversionResult, p project.Project, version int64) {
	r.Project.Version, r.ProjectStatus, r.TaskCount, r.Version = p.Version, p.Status, len(p.Tasks), version
	r.Message = r.Summary()
}
