package flows

// The tests of package flows take their sample answers from flowstest, which
// imports flows and so cannot be imported here. The external test package,
// linked into the same test binary, hands flowstest.SampleAnswers in before
// any test runs (sample_answers_ext_test.go).

// sampleAnswers is flowstest.SampleAnswers.
var sampleAnswers func(c *Campaign, category string, seed uint64) map[string]Answer

// SetSampleAnswers sets sampleAnswers; only the external test package calls it.
func SetSampleAnswers(f func(c *Campaign, category string, seed uint64) map[string]Answer) {
	sampleAnswers = f
}
