package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/picloud/picloud/internal/store"
)

// An async job's request is stored until the job ends, and the jobs table
// is read by whoever reads the database or its backups: the request must
// not hand them the caller's credentials. With a secret key the whole
// request (headers and body) is sealed, bound to its app and job, so the
// script still sees every header; without one the credential headers are
// left out (those the logs leave out, see deniedHeader), and the rest is
// stored as JSON. FinishJob drops the stored request when the job ends.

// sealedRequestName is the name a job's request is sealed under, which
// binds it to its job: a sealed request copied to another job's row does
// not open.
func sealedRequestName(jobID string) string { return "job request " + jobID }

// storedRequest encodes req for the jobs table: sealed when the server
// has a key, else JSON without the credential headers.
func (o *Orchestrator) storedRequest(appID int64, jobID string, req asyncRequest) ([]byte, error) {
	if o.secrets == nil {
		req.Header = recordedHeader(req.Header)
	}
	plain, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: unable to encode an async request: %w", err)
	}
	if o.secrets == nil {
		return plain, nil
	}
	sealed, err := o.secrets.Seal(appID, sealedRequestName(jobID), plain)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: unable to seal an async request: %w", err)
	}
	return sealed, nil
}

// jobRequest returns the request of an async job: the stored one, opened;
// or, for a dead job retried after its request was dropped, the request
// its last attempt recorded (without the credential headers, which were
// never recorded).
func (o *Orchestrator) jobRequest(ctx context.Context, j store.Job) (asyncRequest, error) {
	if len(j.Request) == 0 {
		return o.recordedJobRequest(ctx, j)
	}
	plain := j.Request
	if j.Request[0] != '{' { // JSON is an object; a sealed value begins with its format byte
		if o.secrets == nil {
			return asyncRequest{}, fmt.Errorf("orchestrator: the stored request of job %s is sealed, and this server has no secret key to open it: set the key it was queued under", j.ID)
		}
		var err error
		plain, err = o.secrets.Open(j.AppID, sealedRequestName(j.ID), j.Request)
		if err != nil {
			return asyncRequest{}, fmt.Errorf("orchestrator: the stored request of job %s cannot be opened: %w; %s", j.ID, err, openHint(err))
		}
	}
	var req asyncRequest
	if err := json.Unmarshal(plain, &req); err != nil {
		return asyncRequest{}, fmt.Errorf("orchestrator: the stored request of job %s is unreadable: %w", j.ID, err)
	}
	return req, nil
}

// recordedJobRequest rebuilds a job's request from its last attempt's
// record.
func (o *Orchestrator) recordedJobRequest(ctx context.Context, j store.Job) (asyncRequest, error) {
	if j.LastInvocation == "" {
		return asyncRequest{}, fmt.Errorf("orchestrator: job %s has no stored request", j.ID)
	}
	inv, err := o.store.GetInvocation(ctx, j.LastInvocation)
	if err != nil {
		return asyncRequest{}, fmt.Errorf("orchestrator: the request of job %s was dropped when it ended, and its last attempt's record cannot be read: %w", j.ID, err)
	}
	rec := inv.Request
	switch {
	case rec == nil:
		return asyncRequest{}, fmt.Errorf("orchestrator: the request of job %s was dropped when it ended, and its last attempt has no record of it", j.ID)
	case rec.BodyTruncated:
		return asyncRequest{}, fmt.Errorf("orchestrator: the request of job %s was dropped when it ended, and its last attempt recorded only %d bytes of its %d-byte body", j.ID, len(rec.Body), rec.BodySize)
	}
	query, err := url.ParseQuery(rec.Query)
	if err != nil {
		return asyncRequest{}, fmt.Errorf("orchestrator: the recorded query of job %s is unreadable: %w", j.ID, err)
	}
	return asyncRequest{Method: rec.Method, Path: rec.Path, Query: query, Header: rec.Header, Host: rec.Host, Body: rec.Body}, nil
}
