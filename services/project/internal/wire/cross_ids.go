package wire

import (
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/services/project/internal/project"
)

// CrossIDs are a project's ids in Accrue and in the CRM its opportunity came from (its source
// reference), with the CRM account id when known ("" otherwise).
func CrossIDs(p project.Project, crmAccountID string) *commonv1.CrossSystemIds {
	ids := &commonv1.CrossSystemIds{CustomerId: p.CustomerID, ProjectId: p.ID, ContractId: p.ContractID, LegalEntityId: p.LegalEntityID}
	if p.Source.ExternalID != "" {
		ids.References = append(ids.References, &commonv1.ExternalReference{System: p.Source.System,
			ObjectType: p.Source.ObjectType, ExternalId: p.Source.ExternalID})
		if p.Source.ObjectType == "Opportunity" {
			ids.CrmSystem, ids.CrmOpportunityId = p.Source.System, p.Source.ExternalID
		}
	}
	if crmAccountID != "" && ids.CrmSystem != "" {
		ids.CrmAccountId = crmAccountID
		ids.References = append(ids.References, &commonv1.ExternalReference{System: ids.CrmSystem,
			ObjectType: "Account", ExternalId: crmAccountID})
	}
	return ids
}
