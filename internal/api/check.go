package api

// Outcomes of a checked invocation (CheckedInvocation.Outcome), from the
// least to the most worrying.
const (
	// CheckSame: the candidate answered as production did and made the
	// same writes.
	CheckSame = "same"
	// CheckDifferent: the status, headers, body or writes differ.
	CheckDifferent = "different"
	// CheckNewEffect: the candidate made an outbound call, or read a
	// key, that production never did; it was not performed.
	CheckNewEffect = "new_effect"
	// CheckNewError: the candidate failed where production did not.
	CheckNewError = "new_error"
)

// Bounds of ProjectDeploy.Check.
const (
	// DefaultCheck is the number of recorded invocations per changed
	// script that pic deploy --check replays when given no number.
	DefaultCheck = 50
	// MaxCheck bounds ProjectDeploy.Check.
	MaxCheck = 500
)

// CheckReport is what a deploy's check found: each recorded invocation
// of a changed script replayed against the live source and against the
// candidate, with its effects answered from the invocation's journal
// (the live replay answers what production answered), and a summary.
type CheckReport struct {
	// Limit is the most recorded invocations replayed per script.
	Limit       int                 `json:"limit"`
	Invocations []CheckedInvocation `json:"invocations"`
	Summary     CheckSummary        `json:"summary"`
}

// CheckedInvocation is one recorded invocation replayed against the
// candidate.
type CheckedInvocation struct {
	ID      string `json:"id"`
	Script  string `json:"script"`
	Outcome string `json:"outcome"` // CheckSame, CheckDifferent, …
	// Summary says in one line what differs: "status 200 → 500", "body,
	// 1 write"; "" when the outcome is same.
	Summary string `json:"summary,omitempty"`
	// Diff is nil when the response and the writes are the same.
	Diff *CheckDiff `json:"diff,omitempty"`
	// NewEffects are the effects production never had, which the
	// sandbox refused: "http GET https://api.example.com/x", "kv::get
	// cart:9".
	NewEffects []string `json:"new_effects,omitempty"`
	// Error is the candidate's error, for the outcome new_error.
	Error string `json:"error,omitempty"`
}

// CheckDiff is how the candidate's response and writes differ from the
// live version's.
type CheckDiff struct {
	// Status is [live, candidate] when they differ.
	Status []int `json:"status,omitempty"`
	// Headers are the response headers that differ, by name.
	Headers []HeaderDiff `json:"headers,omitempty"`
	// Body is a line diff of the bodies, JSON indented first: the live
	// version's lines start with "-", the candidate's with "+".
	Body string `json:"body,omitempty"`
	// WritesGone are the writes the live version makes that the
	// candidate does not; WritesNew those the candidate makes that the
	// live version does not: "kv::set cart:9 {\"n\":2}", "kv::delete k", "http POST
	// https://hooks.example.com/".
	WritesGone []string `json:"writes_gone,omitempty"`
	WritesNew  []string `json:"writes_new,omitempty"`
}

// HeaderDiff is a response header whose values differ; "" is absent.
type HeaderDiff struct {
	Name      string `json:"name"`
	Live      string `json:"live"`
	Candidate string `json:"candidate"`
}

// CheckSummary counts a check's invocations by outcome.
type CheckSummary struct {
	// Scripts is the number of changed scripts whose traffic was checked.
	Scripts   int `json:"scripts"`
	Checked   int `json:"checked"`
	Same      int `json:"same"`
	Different int `json:"different"`
	NewError  int `json:"new_error"`
	NewEffect int `json:"new_effect"`
	// Skipped counts the recorded invocations that could not be
	// replayed faithfully: no recorded request, a request body cut when
	// it was recorded, a live replay that does not answer as production
	// did (its journal lacks an effect, or it answers another status),
	// or a check that ran out of time (90 seconds of replays).
	Skipped int `json:"skipped"`
}

// AllSame reports whether every checked invocation was the same.
func (s CheckSummary) AllSame() bool { return s.Same == s.Checked }
