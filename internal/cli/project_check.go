package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
)

// pic deploy --check: the deploy's changed scripts are replayed against
// recorded traffic first (docs/safe-deploys.md, "Checking a release").

// addCheckFlags adds the flags of a deploy's check.
func addCheckFlags(f *flags, opts *deployOptions) {
	f.optionalIntVar(&opts.Check, "check", api.DefaultCheck,
		fmt.Sprintf("first replay the last %d (=N: N) recorded invocations of each changed script against its new source", api.DefaultCheck))
	f.boolVar(&opts.RequireSame, "require-same", "with --check: refuse the deploy (exit 1) unless every invocation is the same")
	f.boolVar(&opts.Yes, "yes", "with --check: deploy without asking when the check finds differences")
}

// checkCheckFlags refuses check flags that do not go together.
func checkCheckFlags(c *command, opts deployOptions) error {
	switch {
	case opts.Check > api.MaxCheck:
		return usagef(c, "--check=%d: a check replays at most %d invocations per script", opts.Check, api.MaxCheck)
	case opts.Check == 0 && opts.RequireSame:
		return usagef(c, "--require-same needs --check")
	case opts.Check == 0 && opts.Yes:
		return usagef(c, "--yes needs --check")
	}
	return nil
}

// runCheckedDeploy deploys after a check. With --require-same or
// --dry-run one request does it all: the server checks, and refuses or
// applies. Otherwise a dry run gets the report first; when it finds a
// difference, the deploy goes on only once confirmed (--yes, or y on a
// terminal).
func runCheckedDeploy(p *pic, a projectAPI, opts deployOptions) error {
	proj := opts.Project
	in := proj.Deploy(opts.Message, opts.Prune, opts.DryRun)
	in.Check, in.RequireSame = opts.Check, opts.RequireSame
	if opts.RequireSame || opts.DryRun {
		res, err := a.DeployProject(p.ctx, proj.App, in)
		if err != nil {
			return checkRefusal(p, a, err, proj.App)
		}
		return printDeploy(p, opts, res)
	}
	in.DryRun = true
	first, err := a.DeployProject(p.ctx, proj.App, in)
	if err != nil {
		return deployRefusal(p.ctx, a, err, proj.App)
	}
	if !planChanges(first.Changes) {
		return printDeploy(p, opts, first)
	}
	same := first.Check.Summary.AllSame()
	if !p.isJSON() || !same && !opts.Yes {
		if err := printPlan(p, first); err != nil {
			return err
		}
	}
	if !same && !opts.Yes && !confirmDeploy(p, first.Check.Summary) {
		return fmt.Errorf("not deployed: the check found %s; nothing was changed (--yes deploys anyway)", notSame(first.Check.Summary))
	}
	// When all were the same, the deploy requires it still: traffic or
	// the app may have changed since.
	in.DryRun, in.RequireSame = false, same
	res, err := a.DeployProject(p.ctx, proj.App, in)
	if err != nil {
		return checkRefusal(p, a, err, proj.App)
	}
	if p.isJSON() {
		if err := writeJSON(p.io.Out, res); err != nil {
			return err
		}
	}
	printOutcome(p, opts, res)
	return nil
}

// planChanges reports whether a plan changes anything.
func planChanges(changes []api.Change) bool {
	for _, c := range changes {
		if c.Action != api.ActionUnchanged {
			return true
		}
	}
	return false
}

// confirmDeploy asks on a terminal whether to deploy what the check
// found different; without one the answer is no.
func confirmDeploy(p *pic, s api.CheckSummary) bool {
	if !p.io.IsTTY {
		p.info("The check found %s; without a terminal, add --yes to deploy anyway", notSame(s))
		return false
	}
	fmt.Fprintf(p.io.ErrOut, "The check found %s. Deploy anyway? [y/N] ", notSame(s))
	answer, err := readLine(p.io.In)
	answer = strings.ToLower(strings.TrimSpace(answer))
	return err == nil && (answer == "y" || answer == "yes")
}

// notSame says how many checked invocations were not the same.
func notSame(s api.CheckSummary) string {
	return fmt.Sprintf("%d of %d invocation(s) not the same", s.Checked-s.Same, s.Checked)
}

// checkRefusal prints the report a refused deploy (409 check_failed)
// carries and rewords the refusal; other errors are deployRefusal's.
func checkRefusal(p *pic, a projectAPI, err error, app string) error {
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "check_failed" {
		return deployRefusal(p.ctx, a, err, app)
	}
	rep, rerr := refusedReport(e)
	if rerr != nil {
		return err
	}
	if p.isJSON() {
		if werr := writeJSON(p.io.Out, rep); werr != nil {
			return werr
		}
	} else if werr := printCheck(p.io.Out, rep); werr != nil {
		return werr
	}
	return reworded(err, "not deployed to app %s: the check found %s (--require-same); nothing was changed", app, notSame(rep.Summary))
}

// refusedReport reads the report in a check_failed refusal's details.
func refusedReport(e *client.Error) (*api.CheckReport, error) {
	b, err := json.Marshal(e.Details["check"])
	if err != nil {
		return nil, fmt.Errorf("cli: the refusal's report: %w", err)
	}
	var rep api.CheckReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("cli: the refusal's report: %w", err)
	}
	return &rep, nil
}

// outcomeWords are the outcomes as pic prints them.
var outcomeWords = map[string]string{
	api.CheckSame: "same", api.CheckDifferent: "different", api.CheckNewError: "new error", api.CheckNewEffect: "new effect",
}

// printCheck writes a check's report: a line per invocation, OUTCOME
// SCRIPT ID SUMMARY, then what differs in each that is not the same,
// then a summary line. Nothing for no report.
func printCheck(w io.Writer, rep *api.CheckReport) error {
	if rep == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, c := range rep.Invocations {
		writeRow(&b, []string{outcomeWords[c.Outcome], c.Script, c.ID, c.Summary})
	}
	for _, c := range rep.Invocations {
		if c.Outcome != api.CheckSame {
			writeCheckDetail(&b, c)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", checkSummaryLine(rep))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCheckDetail writes what differs in one invocation, indented.
func writeCheckDetail(b *strings.Builder, c api.CheckedInvocation) {
	fmt.Fprintf(b, "\n%s %s (%s):\n", outcomeWords[c.Outcome], c.ID, c.Script)
	for _, e := range c.NewEffects {
		fmt.Fprintf(b, "  new effect, not performed: %s\n", e)
	}
	if c.Error != "" {
		fmt.Fprintf(b, "  error: %s\n", c.Error)
	}
	d := c.Diff
	if d == nil {
		return
	}
	if d.Status != nil {
		fmt.Fprintf(b, "  status: %d → %d\n", d.Status[0], d.Status[1])
	}
	for _, h := range d.Headers {
		fmt.Fprintf(b, "  header %s: %q → %q\n", h.Name, h.Live, h.Candidate)
	}
	if d.Body != "" {
		b.WriteString("  body:\n")
		for line := range strings.SplitSeq(d.Body, "\n") {
			fmt.Fprintf(b, "    %s\n", line)
		}
	}
	for _, w := range d.WritesGone {
		fmt.Fprintf(b, "  write no longer made: %s\n", w)
	}
	for _, w := range d.WritesNew {
		fmt.Fprintf(b, "  new write: %s\n", w)
	}
}

// checkSummaryLine is "Check: 12 invocation(s) of 2 script(s) replayed:
// 10 same, 1 different, 1 new error, 0 new effect; 3 skipped".
func checkSummaryLine(rep *api.CheckReport) string {
	s := rep.Summary
	line := fmt.Sprintf("Check: %d invocation(s) of %d changed script(s) replayed: %d same, %d different, %d new error, %d new effect",
		s.Checked, s.Scripts, s.Same, s.Different, s.NewError, s.NewEffect)
	if s.Skipped > 0 {
		line += fmt.Sprintf("; %d skipped (not replayable as production ran them)", s.Skipped)
	}
	return line
}
