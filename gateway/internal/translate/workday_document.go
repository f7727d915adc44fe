package translate

import (
	"strings"

	"github.com/shopspring/decimal"
)

// Workday's worker as its Human_Resources web service documents it (Get_Workers response),
// converted from XML to JSON. Conversions differ in how they write a reference's ID and its type
// attribute; refID reads the common ones:
//
//	"Worker_Reference": {"ID": [{"type": "WID", "value": "3aa5…"}, {"type": "Employee_ID", "value": "21001"}]}
//	"ID": {"@wd:type": "Employee_ID", "#text": "21001"}      "ID": {"attributes": {"wd:type": "Employee_ID"}, "$value": "21001"}
//
// Fields read (under Worker_Data):
//
//	Personal_Data.Name_Data.Legal_Name_Data.Name_Detail_Data.First_Name / Last_Name (or Formatted_Name)
//	Personal_Data.Contact_Data.Email_Address_Data[].Email_Address (the WORK one first)
//	Employment_Data.Worker_Job_Data[Primary_Job].Position_Data: Job_Profile_Summary_Data.Job_Profile_Name
//	  (or Job_Profile_Reference), Business_Site_Summary_Data.Name (or Location_Reference),
//	  Scheduled_Weekly_Hours, Full_Time_Equivalent_Percentage, Worker_Type_Reference
//	Employment_Data.Worker_Status_Data.Active
//	Organization_Data.Worker_Organization_Data[].Organization_Data of type Company: Organization_Reference_ID
//	Compensation_Data: Compensation_Effective_Date; Employee_Base_Pay_Plan_Assignment_Data (or
//	  Salary_and_Hourly_Data) Amount, Currency_Reference (Currency_ID), Frequency_Reference
//	  (Frequency_ID: Annual, Monthly or Hourly)
//
// The effective moment is Effective_Moment (top level or on the worker), else the response's
// Response_Filter.As_Of_Entry_DateTime; the event id is Event_ID (or Event_Reference), else the
// worker id and moment.

// workerDocument finds the one Worker of a Get_Workers response (or a Worker alone).
func workerDocument(root map[string]any) (map[string]any, bool) {
	for _, path := range []string{"Get_Workers_Response.Response_Data.Worker", "Response_Data.Worker", "Worker"} {
		v := at(root, path)
		if ws, ok := v.([]any); ok && len(ws) == 1 {
			v = ws[0]
		}
		w := object(v)
		if w != nil && (field(w, "Worker_Data") != nil || field(w, "Worker_Reference") != nil) {
			return w, true
		}
		if _, many := v.([]any); many {
			return nil, true // a page of several workers: refused by workerOfDocument
		}
	}
	return nil, false
}

func workerOfDocument(root, w map[string]any) (workerFields, error) {
	if w == nil {
		return workerFields{}, malformed("a delivery carries exactly one Worker")
	}
	d := object(field(w, "Worker_Data"))
	f := workerFields{eventID: text(field(root, "Event_ID"))}
	if f.eventID == "" {
		f.eventID = refID(field(root, "Event_Reference"), "")
	}
	f.workerID, f.workerType = refID(field(w, "Worker_Reference"), "Employee_ID"), "employee"
	if f.workerID == "" {
		if f.workerID = refID(field(w, "Worker_Reference"), "Contingent_Worker_ID"); f.workerID != "" {
			f.workerType = "contractor"
		}
	}
	if f.workerID == "" {
		f.workerID = text(field(d, "Worker_ID"))
	}
	f.moment = firstText(root, "Effective_Moment")
	for _, p := range []string{"Effective_Moment", "Worker_Data.Effective_Moment"} {
		if f.moment == "" {
			f.moment = text(at(w, p))
		}
	}
	for _, p := range []string{"Get_Workers_Response.Response_Filter.As_Of_Entry_DateTime", "Response_Filter.As_Of_Entry_DateTime"} {
		if f.moment == "" {
			f.moment = text(at(root, p))
		}
	}
	name := object(at(d, "Personal_Data.Name_Data.Legal_Name_Data.Name_Detail_Data"))
	f.name = strings.TrimSpace(text(field(name, "First_Name")) + " " + text(field(name, "Last_Name")))
	if f.name == "" {
		f.name = text(field(name, "Formatted_Name"))
	}
	if f.name == "" {
		f.name = text(field(w, "Worker_Descriptor"))
	}
	f.email = workEmail(at(d, "Personal_Data.Contact_Data.Email_Address_Data"))
	pos := object(field(primaryJob(at(d, "Employment_Data.Worker_Job_Data")), "Position_Data"))
	if f.jobProfile = text(at(pos, "Job_Profile_Summary_Data.Job_Profile_Name")); f.jobProfile == "" {
		f.jobProfile = refID(at(pos, "Job_Profile_Summary_Data.Job_Profile_Reference"), "Job_Profile_ID")
	}
	if f.location = text(at(pos, "Business_Site_Summary_Data.Name")); f.location == "" {
		f.location = refID(at(pos, "Business_Site_Summary_Data.Location_Reference"), "Location_ID")
	}
	if f.workerType == "employee" && refID(field(pos, "Worker_Type_Reference"), "Contingent_Worker_Type_ID") != "" {
		f.workerType = "contractor"
	}
	f.weeklyHours = field(pos, "Scheduled_Weekly_Hours")
	if pct, ok, err := number(field(pos, "Full_Time_Equivalent_Percentage"), "Full_Time_Equivalent_Percentage"); err != nil {
		return f, err
	} else if ok {
		f.fte = pct.Div(decimal.NewFromInt(100)).String()
	}
	if a, ok := flag(at(d, "Employment_Data.Worker_Status_Data.Active")); ok {
		f.active = &a
	}
	f.company = company(at(d, "Organization_Data.Worker_Organization_Data"))
	var err error
	f.comp, err = documentPay(object(field(d, "Compensation_Data")))
	return f, err
}

// documentPay reads the base pay plan of Compensation_Data.
func documentPay(c map[string]any) (*compensation, error) {
	plan := field(c, "Employee_Base_Pay_Plan_Assignment_Data")
	name := "Compensation_Data.Employee_Base_Pay_Plan_Assignment_Data"
	if plan == nil {
		plan, name = field(c, "Salary_and_Hourly_Data"), "Compensation_Data.Salary_and_Hourly_Data"
	}
	plans, _ := list(plan)
	if len(plans) == 0 {
		return nil, nil
	}
	p := object(plans[0])
	comp := &compensation{currency: refID(field(p, "Currency_Reference"), "Currency_ID"), source: name,
		effective: field(c, "Compensation_Effective_Date"), hourlyName: name + ".Amount", annualName: name + ".Amount"}
	if comp.effective == nil {
		comp.effective = field(p, "Assignment_Effective_Date")
	}
	amount := field(p, "Amount")
	freq := refID(field(p, "Frequency_Reference"), "Frequency_ID")
	switch strings.ToLower(freq) {
	case "annual", "yearly", "":
		comp.annual = amount
	case "hourly":
		comp.hourly = amount
	case "monthly":
		m, ok, err := number(amount, name+".Amount")
		if err != nil || !ok {
			return nil, err
		}
		comp.annual = m.Mul(decimal.NewFromInt(12)).String()
	default:
		return nil, malformed("%s.Frequency_Reference: frequency %q is not Annual, Monthly or Hourly", name, clip(freq))
	}
	return comp, nil
}

// refID returns the value of a reference's ID of the given type (any type but WID when typ is
// empty).
func refID(ref any, typ string) string {
	ids, _ := list(field(object(ref), "ID"))
	for _, raw := range ids {
		id := object(raw)
		t := text(field(id, "type"))
		if t == "" {
			t = firstText(object(field(id, "attributes")), "type")
		}
		if t == "" {
			t = firstText(object(field(id, "$")), "type")
		}
		if typ != "" && !strings.EqualFold(t, typ) || typ == "" && strings.EqualFold(t, "WID") {
			continue
		}
		if v := firstText(id, "value", "_value", "$value", "#text", "_", "text"); v != "" {
			return v
		}
	}
	return ""
}

// primaryJob is the Worker_Job_Data marked Primary_Job (or the only one).
func primaryJob(v any) map[string]any {
	jobs, _ := list(v)
	for _, j := range jobs {
		if p, _ := flag(field(object(j), "Primary_Job")); p {
			return object(j)
		}
	}
	if len(jobs) > 0 {
		return object(jobs[0])
	}
	return nil
}

// workEmail is the email address whose usage is WORK, else the first.
func workEmail(v any) string {
	emails, _ := list(v)
	first := ""
	for _, e := range emails {
		obj := object(e)
		addr := text(field(obj, "Email_Address"))
		if first == "" {
			first = addr
		}
		types, _ := list(at(obj, "Usage_Data.Type_Data"))
		for _, ty := range types {
			if strings.EqualFold(refID(field(object(ty), "Type_Reference"), "Communication_Usage_Type_ID"), "WORK") && addr != "" {
				return addr
			}
		}
	}
	return first
}

// company is the reference id of the worker's organization of type Company.
func company(v any) string {
	orgs, _ := list(v)
	for _, o := range orgs {
		data := object(field(object(o), "Organization_Data"))
		if !strings.EqualFold(refID(field(data, "Organization_Type_Reference"), "Organization_Type_ID"), "Company") {
			continue
		}
		if id := text(field(data, "Organization_Reference_ID")); id != "" {
			return id
		}
		return text(field(data, "Organization_Code"))
	}
	return ""
}
