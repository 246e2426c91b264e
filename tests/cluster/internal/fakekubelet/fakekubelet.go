// Package fakekubelet stands in for kubelets on a set of fake nodes: it registers the
// Nodes, renews their Leases, moves bound pods to Running/Ready (or Succeeded/Failed for
// run-to-completion pods), emits kubelet-style Events and force-deletes terminating pods.
package fakekubelet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Annotations understood on pods.
const (
	// AnnotationRunSeconds overrides how long a run-to-completion pod runs.
	AnnotationRunSeconds = "kws.test/run-seconds"
	// AnnotationFail makes a run-to-completion pod end in phase Failed (exit code 1).
	AnnotationFail = "kws.test/fail"
)

// Config tunes the fake kubelet.
type Config struct {
	Nodes          int
	NodePrefix     string
	KubeletVersion string
	StartDelay     time.Duration // max random delay before a bound pod becomes Running
	RunDuration    time.Duration // how long run-to-completion pods run
	DeleteDelay    time.Duration // max random delay before a terminating pod is force-deleted
	LeaseDuration  time.Duration // node lease duration; renewed every quarter of it
	Events         bool          // emit Pulled/Created/Started/Killing events
}

// Kubelet is the fake kubelet for all fake nodes.
type Kubelet struct {
	cfg    Config
	client kubernetes.Interface
	nodes  map[string]int // node name -> index
	lister corelisters.PodLister
	queue  workqueue.TypedRateLimitingInterface[string]

	mu     sync.Mutex
	nextIP map[string]int
	podIPs map[types.UID]string
}

// NodeNames returns the names of the fake nodes.
func (k *Kubelet) NodeNames() []string {
	out := make([]string, k.cfg.Nodes)
	for n, i := range k.nodes {
		out[i] = n
	}
	return out
}

// New creates a fake kubelet; call Run to start it.
func New(client kubernetes.Interface, cfg Config) *Kubelet {
	if cfg.NodePrefix == "" {
		cfg.NodePrefix = "kws-node-"
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	k := &Kubelet{
		cfg:    cfg,
		client: client,
		nodes:  map[string]int{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "fake-kubelet"}),
		nextIP: map[string]int{},
		podIPs: map[types.UID]string{},
	}
	for i := 0; i < cfg.Nodes; i++ {
		k.nodes[fmt.Sprintf("%s%d", cfg.NodePrefix, i)] = i
	}
	return k
}

func nodeIP(i int) string { return fmt.Sprintf("10.0.0.%d", i+10) }

// RegisterNodes creates (or refreshes) the Node objects and their Leases.
func (k *Kubelet) RegisterNodes(ctx context.Context) error {
	for name, i := range k.nodes {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					"kubernetes.io/hostname":           name,
					"kubernetes.io/os":                 "linux",
					"kubernetes.io/arch":               "amd64",
					"node.kubernetes.io/instance-type": "kws-fake",
					"type":                             "kws-fake",
				},
				Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
			},
			Spec: corev1.NodeSpec{PodCIDR: podCIDR(i), PodCIDRs: []string{podCIDR(i)}},
		}
		_, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", name, err)
		}
		if err := k.updateNodeStatus(ctx, name, i); err != nil {
			return err
		}
		if err := k.renewLease(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func podCIDR(i int) string { return fmt.Sprintf("10.%d.0.0/16", 64+i) }

func (k *Kubelet) updateNodeStatus(ctx context.Context, name string, i int) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		node, err := k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			log.Printf("fake-kubelet: get node %s: %v", name, err)
			return false, nil
		}
		now := metav1.Now()
		cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
			c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
			for _, old := range node.Status.Conditions {
				if old.Type == t && old.Status == s {
					c.LastTransitionTime = old.LastTransitionTime
				}
			}
			return c
		}
		res := corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("32"),
			corev1.ResourceMemory:           resource.MustParse("256Gi"),
			corev1.ResourcePods:             resource.MustParse("250"),
			corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
		}
		node.Status.Capacity = res
		node.Status.Allocatable = res
		node.Status.Phase = corev1.NodeRunning
		node.Status.Conditions = []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		}
		node.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP(i)},
			{Type: corev1.NodeHostName, Address: name},
		}
		node.Status.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}}
		node.Status.NodeInfo = corev1.NodeSystemInfo{
			MachineID: name, SystemUUID: name, BootID: name,
			KernelVersion: "6.1.0-kws", OSImage: "kws fake node",
			ContainerRuntimeVersion: "containerd://1.7.0-kws",
			KubeletVersion:          k.cfg.KubeletVersion, KubeProxyVersion: "",
			OperatingSystem: "linux", Architecture: "amd64",
		}
		_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return false, nil
		}
		if err != nil {
			log.Printf("fake-kubelet: update node status %s: %v", name, err)
			return false, nil
		}
		return true, nil
	})
}

func (k *Kubelet) renewLease(ctx context.Context, name string) error {
	leases := k.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		nodeObj, nerr := k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if nerr != nil {
			return nerr
		}
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: name, UID: nodeObj.UID}}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(name),
				LeaseDurationSeconds: ptr.To(int32(k.cfg.LeaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = &now
	l.Spec.HolderIdentity = ptr.To(name)
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// Run starts heartbeats and pod handling; it returns once the pod informer has synced.
func (k *Kubelet) Run(ctx context.Context) error {
	for name, i := range k.nodes {
		name, i := name, i
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			if err := k.renewLease(ctx, name); err != nil && ctx.Err() == nil {
				log.Printf("fake-kubelet: renew lease %s: %v", name, err)
			}
		}, k.cfg.LeaseDuration/4)
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			if err := k.updateNodeStatus(ctx, name, i); err != nil && ctx.Err() == nil {
				log.Printf("fake-kubelet: node status %s: %v", name, err)
			}
		}, time.Minute)
	}

	factory := informers.NewSharedInformerFactoryWithOptions(k.client, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName!=" }))
	inf := factory.Core().V1().Pods()
	k.lister = inf.Lister()
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, n any) { enqueue(n) },
		DeleteFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				k.mu.Lock()
				delete(k.podIPs, p.UID)
				k.mu.Unlock()
			}
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return fmt.Errorf("pod informer did not sync")
	}
	go func() { <-ctx.Done(); k.queue.ShutDown() }()
	for w := 0; w < 4; w++ {
		go func() {
			for k.processNext(ctx) {
			}
		}()
	}
	return nil
}

func (k *Kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	retry, after, err := k.sync(ctx, key)
	switch {
	case err != nil:
		if !apierrors.IsNotFound(err) && ctx.Err() == nil {
			if !apierrors.IsConflict(err) {
				log.Printf("fake-kubelet: %s: %v", key, err)
			}
			k.queue.AddRateLimited(key)
		}
	case retry:
		k.queue.Forget(key)
		k.queue.AddAfter(key, after)
	default:
		k.queue.Forget(key)
	}
	return true
}

func randDelay(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(mrand.Int64N(int64(max)))
}

func runToCompletion(p *corev1.Pod) bool { return p.Spec.RestartPolicy != corev1.RestartPolicyAlways }

// sync handles one pod. It returns (true, d, nil) to be called again after d.
func (k *Kubelet) sync(ctx context.Context, key string) (bool, time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return false, 0, nil
	}
	pod, err := k.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	idx, ours := k.nodes[pod.Spec.NodeName]
	if !ours {
		return false, 0, nil
	}
	if pod.DeletionTimestamp != nil {
		// Stand in for the kubelet's final delete after containers stopped.
		due := pod.DeletionTimestamp.Add(-time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 0)) * time.Second).
			Add(randDelay(k.cfg.DeleteDelay) + 100*time.Millisecond)
		if d := time.Until(due); d > 0 {
			return true, d, nil
		}
		if k.cfg.Events && pod.Status.Phase == corev1.PodRunning {
			for _, c := range pod.Spec.Containers {
				k.event(ctx, pod, "Normal", "Killing", "Killing", fmt.Sprintf("Stopping container %s", c.Name))
			}
		}
		err := k.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To(int64(0)),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return false, 0, nil
		}
		return false, 0, err
	}
	switch pod.Status.Phase {
	case corev1.PodPending, "":
		created := pod.CreationTimestamp.Time
		if created.IsZero() {
			created = time.Now()
		}
		delay := time.Duration(uint64(hashUID(pod.UID)) % uint64(k.cfg.StartDelay+1))
		if d := time.Until(created.Add(delay)); d > 0 {
			return true, d, nil
		}
		return k.start(ctx, pod, idx)
	case corev1.PodRunning:
		if !runToCompletion(pod) {
			return false, 0, nil
		}
		run := k.cfg.RunDuration
		if s, ok := pod.Annotations[AnnotationRunSeconds]; ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				run = time.Duration(f * float64(time.Second))
			}
		}
		start := time.Now()
		if pod.Status.StartTime != nil {
			start = pod.Status.StartTime.Time
		}
		if d := time.Until(start.Add(run)); d > 0 {
			return true, d, nil
		}
		return false, 0, k.finish(ctx, pod, pod.Annotations[AnnotationFail] == "true")
	}
	return false, 0, nil
}

func hashUID(u types.UID) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(u); i++ {
		h = (h ^ uint32(u[i])) * 16777619
	}
	return h
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (k *Kubelet) podIP(pod *corev1.Pod, idx int) string {
	if pod.Spec.HostNetwork {
		return nodeIP(idx)
	}
	if pod.Status.PodIP != "" {
		return pod.Status.PodIP
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if ip, ok := k.podIPs[pod.UID]; ok {
		return ip
	}
	n := k.nextIP[pod.Spec.NodeName]%65000 + 2
	k.nextIP[pod.Spec.NodeName]++
	ip := fmt.Sprintf("10.%d.%d.%d", 64+idx, n/256, n%256)
	k.podIPs[pod.UID] = ip
	return ip
}

func setCondition(conds []corev1.PodCondition, t corev1.PodConditionType, s corev1.ConditionStatus, reason string, now metav1.Time) []corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == t {
			if conds[i].Status != s {
				conds[i].Status = s
				conds[i].LastTransitionTime = now
			}
			conds[i].Reason = reason
			return conds
		}
	}
	return append(conds, corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now})
}

func imageID(image string) string { return "docker.io/library/" + image + "@sha256:" + randomHex(32) }

func (k *Kubelet) start(ctx context.Context, pod *corev1.Pod, idx int) (bool, time.Duration, error) {
	p := pod.DeepCopy()
	now := metav1.Now()
	ip := k.podIP(p, idx)
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = nodeIP(idx)
	p.Status.HostIPs = []corev1.HostIP{{IP: nodeIP(idx)}}
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.StartTime = &now
	p.Status.QOSClass = corev1.PodQOSBestEffort
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		p.Status.Conditions = setCondition(p.Status.Conditions, t, corev1.ConditionTrue, "", now)
	}
	p.Status.InitContainerStatuses = nil
	for _, c := range p.Spec.InitContainers {
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: "containerd://" + randomHex(32),
			Ready: true, Started: ptr.To(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}},
		})
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), ContainerID: "containerd://" + randomHex(32),
			Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	if _, err := k.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		return false, 0, err
	}
	if k.cfg.Events {
		for _, c := range p.Spec.Containers {
			k.event(ctx, p, "Normal", "Pulled", "Pulling", fmt.Sprintf("Container image %q already present on machine", c.Image))
			k.event(ctx, p, "Normal", "Created", "Created", fmt.Sprintf("Created container: %s", c.Name))
			k.event(ctx, p, "Normal", "Started", "Started", fmt.Sprintf("Started container %s", c.Name))
		}
	}
	if runToCompletion(p) {
		// Come back when it is due to finish.
		return true, 50 * time.Millisecond, nil
	}
	return false, 0, nil
}

func (k *Kubelet) finish(ctx context.Context, pod *corev1.Pod, fail bool) error {
	p := pod.DeepCopy()
	now := metav1.Now()
	code, reason, phase := int32(0), "Completed", corev1.PodSucceeded
	if fail {
		code, reason, phase = 1, "Error", corev1.PodFailed
	}
	p.Status.Phase = phase
	for _, t := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = setCondition(p.Status.Conditions, t, corev1.ConditionFalse, "PodCompleted", now)
	}
	p.Status.Conditions = setCondition(p.Status.Conditions, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", now)
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		started := now
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
		cs.Ready = false
		cs.Started = ptr.To(false)
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: now, ContainerID: cs.ContainerID}}
	}
	_, err := k.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

func (k *Kubelet) event(ctx context.Context, pod *corev1.Pod, typ, reason, action, note string) {
	now := metav1.NewMicroTime(time.Now())
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%s", pod.Name, randomHex(8)),
			Namespace: pod.Namespace,
		},
		EventTime:           now,
		ReportingController: "kubelet",
		ReportingInstance:   pod.Spec.NodeName,
		Action:              action,
		Reason:              reason,
		Type:                typ,
		Note:                note,
		Regarding: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion,
		},
	}
	if _, err := k.client.EventsV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil &&
		ctx.Err() == nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
		log.Printf("fake-kubelet: event %s for %s/%s: %v", reason, pod.Namespace, pod.Name, err)
	}
}
