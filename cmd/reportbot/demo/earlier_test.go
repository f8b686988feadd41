package demo

import (
	"context"
	"testing"
)

// TestEarlierCampaign: the demo holds last year's campaign, with reports
// for most units, and its open campaign compares with it.
func TestEarlierCampaign(t *testing.T) {
	r := mustStart(t)
	ctx := context.Background()
	open := r.svc.Campaign()
	if open.Previous != earlierID || open.Key == "" {
		t.Fatalf("open campaign %s (key %q) names previous %q, want %s under its own key", open.ID, open.Key, open.Previous, earlierID)
	}
	list, err := r.svc.Campaigns(ctx)
	if err != nil || len(list) != 2 || list[0].ID != earlierID || list[0].Open() || !list[1].Open() {
		t.Fatalf("Campaigns = %+v, %v; want last year's (closed), then the demo's (open)", list, err)
	}
	o, err := r.svc.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o.PreviousCampaign() == nil || o.PreviousCampaign().ID != earlierID {
		t.Fatalf("the overview does not compare with %s", earlierID)
	}
	with := 0
	for i := range o.Units {
		if o.Units[i].HasPrevious() {
			with++
		}
	}
	if with < len(o.Units)*3/4 {
		t.Errorf("%d of %d units have last year's report, want most", with, len(o.Units))
	}
	n := o.Count()
	if n.Submitted != len(submittedUnits) {
		t.Errorf("submitted this year: %d, want %d", n.Submitted, len(submittedUnits))
	}
}
