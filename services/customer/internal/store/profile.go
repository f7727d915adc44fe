package store

import (
	"encoding/json"
	"fmt"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

// profile is the JSON documents of a customers row: the billing address, the tax profile (NULL
// when none) and the contacts. They are the domain values' JSON, whose keys are fixed because
// the content hash (customer.Details.Hash) is computed over them too.
type profile struct{ address, tax, contacts []byte }

func marshalProfile(d customer.Details) (p profile, err error) {
	if p.address, err = json.Marshal(d.Address); err != nil {
		return p, err
	}
	if d.Tax != nil {
		if p.tax, err = json.Marshal(d.Tax); err != nil {
			return p, err
		}
	}
	contacts := d.Contacts
	if contacts == nil {
		contacts = []customer.Contact{}
	}
	p.contacts, err = json.Marshal(contacts)
	return p, err
}

func (p profile) unmarshal(d *customer.Details) error {
	if err := json.Unmarshal(p.address, &d.Address); err != nil {
		return fmt.Errorf("store: address: %w", err)
	}
	if p.tax != nil {
		d.Tax = &customer.TaxProfile{}
		if err := json.Unmarshal(p.tax, d.Tax); err != nil {
			return fmt.Errorf("store: tax profile: %w", err)
		}
	}
	if err := json.Unmarshal(p.contacts, &d.Contacts); err != nil {
		return fmt.Errorf("store: contacts: %w", err)
	}
	if len(d.Contacts) == 0 {
		d.Contacts = nil
	}
	return nil
}
