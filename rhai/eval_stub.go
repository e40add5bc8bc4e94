//go:build !lead

package rhai

// Temporary stand-ins until the evaluator lands; removed with it.

type scriptFn struct{ anonymous bool }

type evaluator struct{}

func (ev *evaluator) callFnPtrValue(fn Value, args []Value, pos Position) (Value, error) {
	return Unit, NewError(ErrorFunctionNotFound, "evaluator not ready")
}

func (ev *evaluator) checkSize(strLen, arrLen, mapLen, blobLen int, pos Position) error { return nil }
