// Package paging encodes and decodes the opaque page tokens of list RPCs (keyset pagination: the
// token holds the sort key of the last item served, so pages never skip or repeat rows).
package paging

import (
	"encoding/base64"

	"github.com/google/uuid"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// ReasonInvalidToken is returned for tokens this service did not issue.
const ReasonInvalidToken = "INVALID_PAGE_TOKEN"

// Encode returns the token after the item with id and secondary key.
func Encode(afterID, afterKey string) string {
	b, _ := proto.Marshal(&commonv1.PageToken{AfterId: afterID, AfterKey: afterKey})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the position a token points after; the zero token ("") is the first page.
func Decode(tok string) (afterID, afterKey string, err error) {
	if tok == "" {
		return "", "", nil
	}
	var pt commonv1.PageToken
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = proto.Unmarshal(b, &pt)
	}
	if err != nil || (pt.GetAfterId() == "" && pt.GetAfterKey() == "") {
		return "", "", fault.Invalidf(ReasonInvalidToken, "page_token", "the page token is not one this service issued")
	}
	return pt.GetAfterId(), pt.GetAfterKey(), nil
}

// DecodeID is Decode for lists keyed by a canonical id: the id must be a UUID.
func DecodeID(tok string) (afterID, afterKey string, err error) {
	afterID, afterKey, err = Decode(tok)
	if err == nil && tok != "" {
		if _, perr := uuid.Parse(afterID); perr != nil {
			return "", "", fault.Invalidf(ReasonInvalidToken, "page_token", "the page token is not one this service issued")
		}
	}
	return afterID, afterKey, err
}
