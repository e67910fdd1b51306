// Package v1beta1 stands in for github.com/open-feature/open-feature-operator/api,
// which the Go module proxy reachable here refuses (403 for every version tried).
// flagd only uses it in its Kubernetes sync (--uri core.openfeature.dev/...), which
// migrate's tests never use: they serve a file (--uri file:...). Everything else in
// the flagd binary is flagd's own released source.
package v1beta1

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var GroupVersion = schema.GroupVersion{Group: "core.openfeature.dev", Version: "v1beta1"}

type FeatureFlagSpec struct {
	FlagSpec map[string]any `json:"flagSpec,omitempty"`
}

type FeatureFlag struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              FeatureFlagSpec `json:"spec,omitempty"`
}

func AddToScheme(*runtime.Scheme) error {
	return fmt.Errorf("this flagd build has no Kubernetes sync (open-feature-operator/api is not available here)")
}
