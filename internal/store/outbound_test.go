package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A policy stored before the private list existed keeps working: with
// allow_private, its allow-list becomes the administrators' private list.
func TestAppOutboundReadsTheOldForm(t *testing.T) {
	for _, tc := range []struct {
		stored string
		want   AppOutbound
	}{
		{`{}`, AppOutbound{}},
		{`{"allow": ["api.github.com"]}`, AppOutbound{Allow: []string{"api.github.com"}}},
		{`{"allow": ["10.0.0.7", "db.internal"], "allow_private": true}`,
			AppOutbound{Allow: []string{"10.0.0.7", "db.internal"}, Private: []string{"10.0.0.7", "db.internal"}}},
		{`{"allow_private": true}`, AppOutbound{}},
		{`{"allow": ["a.example"], "private": ["10.0.0.0/8"]}`, AppOutbound{Allow: []string{"a.example"}, Private: []string{"10.0.0.0/8"}}},
	} {
		var got AppOutbound
		if err := json.Unmarshal([]byte(tc.stored), &got); err != nil {
			t.Fatalf("%s: %v", tc.stored, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s read as %+v, want %+v", tc.stored, got, tc.want)
		}
		// Written back, it is in the new form and reads the same.
		b, _ := json.Marshal(got)
		var again AppOutbound
		if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("%s written as %s, read back as %+v", tc.stored, b, again)
		}
	}
	var bad AppOutbound
	if err := json.Unmarshal([]byte(`{"allow": "x"}`), &bad); err == nil {
		t.Error("a malformed policy was read")
	}
}
