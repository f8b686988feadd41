package flows_test

import (
	"reportbot/flows"
	"reportbot/flows/flowstest"
)

func init() { flows.SetSampleAnswers(flowstest.SampleAnswers) }
