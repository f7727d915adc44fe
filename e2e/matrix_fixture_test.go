package e2e

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// matrixFixture is legal entity A's data (a project with its contract, a resource with a cost
// rate, an assignment, a time entry on its timesheet) and an empty legal entity B whose token
// must not reach any of it.
type matrixFixture struct {
	leA, leB   *billingv1.LegalEntity
	project    *postingFixture
	contract   *billingv1.Contract
	resourceID string
	assignment *resourcev1.Assignment
	entry      *timeexpensev1.TimeEntry
	invoice    *billingv1.Invoice // a draft of an approved entry of another week
	payment    *billingv1.Payment // on account, not applied
	reconRun   string             // a reconciliation run of A's June
}

func newMatrixFixture(t testing.TB, env *harness.Env, billing *grpc.ClientConn, allScopes string, f *forger) *matrixFixture {
	t.Helper()
	fx := &matrixFixture{
		leA: createLegalEntity(t, env, "MXA", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT),
		leB: createLegalEntity(t, env, "MXB", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT),
	}
	fx.project = newPostingProject(t, env, fx.leA, "mx")
	fx.resourceID = newPostingResource(t, env, fx.leA, "Mx Ada", "CONSULTANT", consultantCostRate)
	waitForProjectInResource(t, env, fx.project.projectID, fx.project.taskCount)
	fx.assignment = createAssignment(t, env, assignmentInput(fx.resourceID, fx.project.projectID, fx.project.billable,
		date(2026, 6, 1), date(2026, 6, 5), "10")).GetAssignment()
	fx.entry = mustRecordTime(t, env, timeIn(fx.resourceID, fx.project.projectID, fx.project.billable, date(2026, 6, 2), "4", true))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+f.valid(allScopes, []string{"*"}))
	c, err := billingv1.NewContractServiceClient(billing).GetContract(ctx, &billingv1.GetContractRequest{ContractId: fx.project.contractID})
	if err != nil {
		t.Fatalf("GetContract: %v", err)
	}
	fx.contract = c.GetContract()
	importApproved(t, env, fx.resourceID, fx.project, date(2026, 6, 16), "1", "mx-inv")
	inv, err := billingv1.NewInvoiceServiceClient(billing).ProposeInvoice(ctx, &billingv1.ProposeInvoiceRequest{ContractId: fx.project.contractID})
	if err != nil {
		t.Fatalf("ProposeInvoice: %v", err)
	}
	fx.invoice = inv.GetInvoice()
	pay, err := billingv1.NewPaymentServiceClient(billing).RecordPayment(ctx, &billingv1.RecordPaymentRequest{LegalEntityId: fx.leA.GetLegalEntityId(),
		CustomerId: c.GetContract().GetCustomerId(), Reference: "MX-PAY-1", Amount: &commonv1.Money{Amount: "10.00", CurrencyCode: "USD"},
		PaymentDate: date(2026, 6, 20)})
	if err != nil {
		t.Fatalf("RecordPayment: %v", err)
	}
	fx.payment = pay.GetPayment()
	run, err := opsv1.NewReconciliationServiceClient(billing).RunReconciliation(ctx, &opsv1.RunReconciliationRequest{
		LegalEntityId: fx.leA.GetLegalEntityId(), Period: "2026-06"})
	if err != nil {
		t.Fatalf("RunReconciliation: %v", err)
	}
	fx.reconRun = run.GetRun().GetRunId()
	return fx
}

// contractInput is the fixture contract's terms as an input.
func (fx *matrixFixture) contractInput() *billingv1.ContractInput {
	c := fx.contract
	return &billingv1.ContractInput{CustomerId: c.GetCustomerId(), LegalEntityId: c.GetLegalEntityId(), Name: c.GetName() + " (B's try)",
		CurrencyCode: c.GetCurrencyCode(), StartDate: c.GetStartDate(), EndDate: c.GetEndDate(), Lines: c.GetLines()}
}

// entityCase is the request of an entity-scoped RPC that names legal entity A's data. B's token
// must be refused (PERMISSION_DENIED, LEGAL_ENTITY_FORBIDDEN), or, for lists and KPIs
// (filtered), answered without any of A's ids.
type entityCase struct {
	req      proto.Message
	filtered bool
}

// entityCases returns the request of every entity-scoped RPC, by full method. The matrix fails
// when the contracts mark an RPC entity-scoped that has no case here. The dispatcher's
// SubscriptionService (webhooks:manage) is firm-wide, not entity-scoped: the matrix calls each of
// its RPCs (on the dispatcher process) with every bad token and without its scope only.
func (fx *matrixFixture) entityCases() map[string]entityCase {
	leA, proj, te, inv := fx.leA.GetLegalEntityId(), fx.project.projectID, fx.entry, fx.invoice.GetInvoiceId()
	entryIn := timeIn(fx.resourceID, proj, fx.project.billable, date(2026, 6, 3), "2", true)
	asg := assignmentInput(fx.resourceID, proj, fx.project.billable, date(2026, 6, 1), date(2026, 6, 5), "12")
	return map[string]entityCase{
		// billing
		billingv1.LegalEntityService_CreateLegalEntity_FullMethodName: {req: &billingv1.CreateLegalEntityRequest{LegalEntity: &billingv1.LegalEntityInput{
			Code: "MXC", Name: "B's sibling", FunctionalCurrency: "USD", CountryCode: "US",
			ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}}},
		billingv1.LegalEntityService_GetLegalEntity_FullMethodName:    {req: &billingv1.GetLegalEntityRequest{LegalEntityId: leA}},
		billingv1.LegalEntityService_ListLegalEntities_FullMethodName: {req: &billingv1.ListLegalEntitiesRequest{}, filtered: true},
		billingv1.LedgerService_OpenPeriod_FullMethodName:             {req: &billingv1.OpenPeriodRequest{LegalEntityId: leA, Period: "2026-07"}},
		billingv1.LedgerService_ClosePeriod_FullMethodName:            {req: &billingv1.ClosePeriodRequest{LegalEntityId: leA, Period: "2026-05"}},
		billingv1.LedgerService_ListPeriods_FullMethodName:            {req: &billingv1.ListPeriodsRequest{LegalEntityId: leA}},
		billingv1.LedgerService_ListAccounts_FullMethodName:           {req: &billingv1.ListAccountsRequest{LegalEntityId: leA}},
		billingv1.LedgerService_GetTrialBalance_FullMethodName:        {req: &billingv1.GetTrialBalanceRequest{LegalEntityId: leA}},
		billingv1.LedgerService_ListJournalEntries_FullMethodName:     {req: &billingv1.ListJournalEntriesRequest{LegalEntityId: leA}},
		billingv1.LedgerService_ListInvoiceCandidates_FullMethodName:  {req: &billingv1.ListInvoiceCandidatesRequest{ProjectId: proj}, filtered: true},
		billingv1.LedgerService_GetBillingKpis_FullMethodName:         {req: &billingv1.GetBillingKpisRequest{}, filtered: true},
		billingv1.LedgerService_ListRebillDecisions_FullMethodName:    {req: &billingv1.ListRebillDecisionsRequest{ProjectId: proj}, filtered: true},
		billingv1.JournalExportService_ExportJournal_FullMethodName:   {req: &billingv1.ExportJournalRequest{LegalEntityId: leA}},
		billingv1.JournalExportService_AcknowledgeJournalExport_FullMethodName: {req: &billingv1.AcknowledgeJournalExportRequest{
			LegalEntityId: leA, Cursor: "ajEuMS4x"}}, // base64url("j1.1.1"), a well-formed cursor
		billingv1.JournalExportService_GetJournalExportReport_FullMethodName: {req: &billingv1.GetJournalExportReportRequest{}, filtered: true},
		billingv1.SupplierCostService_RecordSupplierBillLine_FullMethodName: {req: &billingv1.RecordSupplierBillLineRequest{LegalEntityId: leA,
			Line: &billingv1.SupplierBillLine{VendorId: "V-B", BillNumber: "B-1", LineNumber: 1, Amount: &commonv1.Money{Amount: "10.00", CurrencyCode: "USD"},
				BillDate: date(2026, 6, 3), ServiceStart: date(2026, 6, 1), ServiceEnd: date(2026, 6, 3), ProjectId: proj}}},
		billingv1.SupplierCostService_UpsertAllocationRule_FullMethodName: {req: &billingv1.UpsertAllocationRuleRequest{LegalEntityId: leA,
			Rule: &billingv1.AllocationRule{Name: "B's rule", Kind: billingv1.AllocationRuleKind_ALLOCATION_RULE_KIND_DIRECT,
				Targets: []*billingv1.AllocationTarget{{ProjectId: proj}}}}},
		billingv1.SupplierCostService_GetSupplierCostKpis_FullMethodName: {req: &billingv1.GetSupplierCostKpisRequest{LegalEntityId: leA}},
		billingv1.RevenueService_RecognizeRevenue_FullMethodName:         {req: &billingv1.RecognizeRevenueRequest{LegalEntityId: leA, Period: "2026-06", DryRun: true}},
		billingv1.RevenueService_SetRevenueEstimate_FullMethodName: {req: &billingv1.SetRevenueEstimateRequest{ContractId: fx.contract.GetContractId(),
			LineKey: fx.contract.GetLines()[0].GetLineKey(), EffectivePeriod: "2026-06", EstimateToComplete: &commonv1.Money{Amount: "1.00", CurrencyCode: "USD"}}},
		billingv1.RevenueService_GetContractPositions_FullMethodName: {req: &billingv1.GetContractPositionsRequest{LegalEntityId: leA}},
		billingv1.RevenueService_GetRevenueReport_FullMethodName: {req: &billingv1.GetRevenueReportRequest{LegalEntityId: leA,
			FromPeriod: "2026-06", ToPeriod: "2026-06"}},
		billingv1.RevenueService_ExportRevenueReport_FullMethodName: {req: &billingv1.ExportRevenueReportRequest{LegalEntityId: leA,
			FromPeriod: "2026-06", ToPeriod: "2026-06"}},
		billingv1.RevenueService_GetCloseChecklist_FullMethodName: {req: &billingv1.GetCloseChecklistRequest{LegalEntityId: leA, Period: "2026-06"}},
		billingv1.RevenueService_WaiveCloseItem_FullMethodName: {req: &billingv1.WaiveCloseItemRequest{LegalEntityId: leA, Period: "2026-06",
			Item: "NO_DRAFT_INVOICES", Reason: "B's try"}},
		billingv1.RevenueService_SoftClosePeriod_FullMethodName: {req: &billingv1.SoftClosePeriodRequest{LegalEntityId: leA, Period: "2026-08"}},
		billingv1.RevenueService_ReopenPeriod_FullMethodName:    {req: &billingv1.ReopenPeriodRequest{LegalEntityId: leA, Period: "2026-05", Reason: "B's try"}},
		billingv1.ContractService_UpsertContract_FullMethodName: {req: &billingv1.UpsertContractRequest{SourceVersion: 1,
			ExternalReference: &commonv1.ExternalReference{System: "salesforce", ObjectType: "Opportunity", ExternalId: "006-mx-b"},
			Contract:          fx.contractInput()}},
		billingv1.ContractService_AmendContract_FullMethodName: {req: &billingv1.AmendContractRequest{ContractId: fx.contract.GetContractId(),
			ExpectedVersion: fx.contract.GetVersion(), Reason: "B's try", Contract: fx.contractInput()}},
		billingv1.ContractService_GetContract_FullMethodName: {req: &billingv1.GetContractRequest{ContractId: fx.contract.GetContractId()}},
		billingv1.ContractService_CompleteMilestone_FullMethodName: {req: &billingv1.CompleteMilestoneRequest{ContractId: fx.contract.GetContractId(),
			LineKey: "L1", MilestoneKey: "M1", CompletedOn: date(2026, 6, 30)}},
		billingv1.InvoiceService_ListOverCap_FullMethodName: {req: &billingv1.ListOverCapRequest{ContractId: fx.contract.GetContractId()}},
		billingv1.InvoiceService_WriteOffOverCap_FullMethodName: {req: &billingv1.WriteOffOverCapRequest{ContractId: fx.contract.GetContractId(),
			PostingDate: date(2026, 6, 30)}},
		billingv1.InvoiceService_SetTaxRate_FullMethodName: {req: &billingv1.SetTaxRateRequest{LegalEntityId: leA,
			TaxRate: &billingv1.TaxRate{TaxRegion: "US-CA", EffectiveFrom: date(2026, 1, 1), Rate: "0.19"}}},
		billingv1.InvoiceService_ListTaxRates_FullMethodName:           {req: &billingv1.ListTaxRatesRequest{LegalEntityId: leA}},
		billingv1.InvoiceService_ListTaxBlockedInvoices_FullMethodName: {req: &billingv1.ListTaxBlockedInvoicesRequest{LegalEntityId: leA}},
		billingv1.ContractService_ListContractVersions_FullMethodName:  {req: &billingv1.ListContractVersionsRequest{ContractId: fx.contract.GetContractId()}},
		billingv1.InvoiceService_ProposeInvoice_FullMethodName:         {req: &billingv1.ProposeInvoiceRequest{ContractId: fx.contract.GetContractId()}},
		billingv1.InvoiceService_ProposeInvoices_FullMethodName: {req: &billingv1.ProposeInvoicesRequest{LegalEntityId: leA,
			ContractIds: []string{fx.contract.GetContractId()}}},
		billingv1.InvoiceService_GetInvoice_FullMethodName:    {req: &billingv1.GetInvoiceRequest{InvoiceId: inv}},
		billingv1.InvoiceService_PostInvoice_FullMethodName:   {req: &billingv1.PostInvoiceRequest{InvoiceId: inv, IssueDate: date(2026, 6, 30)}},
		billingv1.InvoiceService_VoidInvoice_FullMethodName:   {req: &billingv1.VoidInvoiceRequest{InvoiceId: inv}},
		billingv1.InvoiceService_CreditInvoice_FullMethodName: {req: &billingv1.CreditInvoiceRequest{InvoiceId: inv, IssueDate: date(2026, 6, 30)}},
		billingv1.PaymentService_SetPaymentTerms_FullMethodName: {req: &billingv1.SetPaymentTermsRequest{LegalEntityId: leA,
			PaymentTerms: &billingv1.PaymentTerms{Code: "N30", Instalments: []*billingv1.PaymentInstalment{{Percent: "100", DueDays: 30}}}}},
		billingv1.PaymentService_ListPaymentTerms_FullMethodName: {req: &billingv1.ListPaymentTermsRequest{LegalEntityId: leA}},
		billingv1.PaymentService_SetReceivablesPolicy_FullMethodName: {req: &billingv1.SetReceivablesPolicyRequest{LegalEntityId: leA,
			Policy: &billingv1.ReceivablesPolicy{WriteOffTolerance: "0.05"}}},
		billingv1.PaymentService_RecordPayment_FullMethodName: {req: &billingv1.RecordPaymentRequest{LegalEntityId: leA, CustomerId: fx.contract.GetCustomerId(),
			Reference: "MX-PAY-B", Amount: &commonv1.Money{Amount: "10.00", CurrencyCode: "USD"}, PaymentDate: date(2026, 6, 20)}},
		billingv1.PaymentService_GetPayment_FullMethodName:   {req: &billingv1.GetPaymentRequest{PaymentId: fx.payment.GetPaymentId()}},
		billingv1.PaymentService_ApplyPayment_FullMethodName: {req: &billingv1.ApplyPaymentRequest{PaymentId: fx.payment.GetPaymentId()}},
		billingv1.PaymentService_RefundPayment_FullMethodName: {req: &billingv1.RefundPaymentRequest{PaymentId: fx.payment.GetPaymentId(),
			Amount: &commonv1.Money{Amount: "1.00", CurrencyCode: "USD"}, RefundDate: date(2026, 6, 25), Reference: "MX-REFUND-B"}},
		billingv1.PaymentService_GetArAging_FullMethodName: {req: &billingv1.GetArAgingRequest{LegalEntityId: leA, AsOf: date(2026, 6, 30)}},
		billingv1.PaymentService_GetCustomerStatement_FullMethodName: {req: &billingv1.GetCustomerStatementRequest{LegalEntityId: leA,
			CustomerId: fx.contract.GetCustomerId(), From: date(2026, 6, 1), To: date(2026, 6, 30)}},
		// reconciliation (served by billing)
		opsv1.ReconciliationService_RunReconciliation_FullMethodName:      {req: &opsv1.RunReconciliationRequest{LegalEntityId: leA, Period: "2026-06"}},
		opsv1.ReconciliationService_GetReconciliationRun_FullMethodName:   {req: &opsv1.GetReconciliationRunRequest{RunId: fx.reconRun}},
		opsv1.ReconciliationService_ListReconciliationRuns_FullMethodName: {req: &opsv1.ListReconciliationRunsRequest{}, filtered: true},
		// project
		projectv1.ProjectService_ConvertOpportunity_FullMethodName: {req: &projectv1.ConvertOpportunityRequest{
			Opportunity: postingOpportunity("006-mx-b", "001-mx-b", fx.leA.GetCode())}},
		projectv1.ProjectService_GetProject_FullMethodName:   {req: &projectv1.GetProjectRequest{ProjectId: proj}},
		projectv1.ProjectService_ListProjects_FullMethodName: {req: &projectv1.ListProjectsRequest{}, filtered: true},
		projectv1.ProjectService_ChangeProjectStatus_FullMethodName: {req: &projectv1.ChangeProjectStatusRequest{ProjectId: proj,
			Status: projectv1.ProjectStatus_PROJECT_STATUS_ON_HOLD, Reason: "B's try"}},
		projectv1.ProjectService_GetProjectFinancials_FullMethodName: {req: &projectv1.GetProjectFinancialsRequest{ProjectId: proj}},
		projectv1.ProjectService_ListPortfolio_FullMethodName:        {req: &projectv1.ListPortfolioRequest{}, filtered: true},
		// resource
		resourcev1.AssignmentService_CreateAssignment_FullMethodName: {req: &resourcev1.CreateAssignmentRequest{Assignment: asg}},
		resourcev1.AssignmentService_UpdateAssignment_FullMethodName: {req: &resourcev1.UpdateAssignmentRequest{
			AssignmentId: fx.assignment.GetAssignmentId(), ExpectedVersion: fx.assignment.GetVersion(), Assignment: asg}},
		resourcev1.AssignmentService_GetAssignment_FullMethodName:   {req: &resourcev1.GetAssignmentRequest{AssignmentId: fx.assignment.GetAssignmentId()}},
		resourcev1.AssignmentService_ListAssignments_FullMethodName: {req: &resourcev1.ListAssignmentsRequest{}, filtered: true},
		// time & expense
		timeexpensev1.TimeExpenseService_RecordTimeEntry_FullMethodName: {req: &timeexpensev1.RecordTimeEntryRequest{Entry: entryIn}},
		timeexpensev1.TimeExpenseService_RecordExpense_FullMethodName: {req: &timeexpensev1.RecordExpenseRequest{
			Expense: expenseIn(fx.resourceID, proj, fx.project.billable, date(2026, 6, 3), "12.50", true)}},
		timeexpensev1.TimeExpenseService_SubmitTimesheet_FullMethodName:  {req: &timeexpensev1.SubmitTimesheetRequest{TimesheetId: te.GetTimesheetId()}},
		timeexpensev1.TimeExpenseService_ApproveTimesheet_FullMethodName: {req: &timeexpensev1.ApproveTimesheetRequest{TimesheetId: te.GetTimesheetId()}},
		timeexpensev1.TimeExpenseService_RejectTimesheet_FullMethodName: {req: &timeexpensev1.RejectTimesheetRequest{TimesheetId: te.GetTimesheetId(),
			Reason: "B's try"}},
		timeexpensev1.TimeExpenseService_GetTimesheet_FullMethodName: {req: &timeexpensev1.GetTimesheetRequest{TimesheetId: te.GetTimesheetId()}},
		timeexpensev1.TimeExpenseService_ImportApprovedEntries_FullMethodName: {req: &timeexpensev1.ImportApprovedEntriesRequest{
			Items: []*timeexpensev1.ImportItem{timeItem(withRef(timeIn(fx.resourceID, proj, fx.project.billable, date(2026, 6, 4), "3", true), "mx-b-1"))}}},
		timeexpensev1.TimeExpenseService_CorrectTimeEntry_FullMethodName: {req: &timeexpensev1.CorrectTimeEntryRequest{EntryId: te.GetEntryId(),
			Entry: entryIn, Reason: "B's try"}},
		timeexpensev1.TimeExpenseService_GetTimeEntry_FullMethodName:       {req: &timeexpensev1.GetTimeEntryRequest{EntryId: te.GetEntryId()}},
		timeexpensev1.TimeExpenseService_ListTimeEntries_FullMethodName:    {req: &timeexpensev1.ListTimeEntriesRequest{}, filtered: true},
		timeexpensev1.TimeExpenseService_GetTimeExpenseKpis_FullMethodName: {req: &timeexpensev1.GetTimeExpenseKpisRequest{}, filtered: true},
		timeexpensev1.TimeExpenseService_ListApprovedEntries_FullMethodName: {req: &timeexpensev1.ListApprovedEntriesRequest{
			LegalEntityId: leA, Period: "2026-06"}},
	}
}

// aIDs are legal entity A's ids, none of which a filtered answer to B may contain.
func (fx *matrixFixture) aIDs() []string {
	return []string{fx.leA.GetLegalEntityId(), fx.project.projectID, fx.contract.GetContractId(), fx.assignment.GetAssignmentId(),
		fx.entry.GetEntryId(), fx.entry.GetTimesheetId(), fx.invoice.GetInvoiceId(), fx.reconRun}
}
