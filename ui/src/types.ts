// Shapes of the REST answers the page reads (docs/api.md). Only the fields
// the page uses are named; records carry more.

export type ChangeClass = 'spec' | 'meta' | 'status' | 'none' | 'event';

export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface InvolvedObject {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
}

export interface EventRecord {
  id: string;
  timestamp: string;
  verb: string;
  user?: string;
  namespace?: string;
  resourceType: string;
  resourceName: string;
  message?: string;
  uid?: string;
  apiVersion?: string;
  kind?: string;
  resourceVersion?: string;
  changeClass?: ChangeClass;
  changedPaths?: string[];
  managers?: string[];
  fieldManagers?: Record<string, string>;
  // Kubernetes Events (resourceType "events") only.
  reason?: string;
  type?: string;
  count?: number;
  involvedObject?: InvolvedObject;
  // view=summary adds these; full records have them inside objectChanges.
  ownerReferences?: OwnerRef[];
  labels?: Record<string, string>;
  objectChanges?: unknown;
}

export interface ObjectHistory {
  namespace: string;
  resourceType: string;
  resourceName: string;
  watchEvents: EventRecord[];
  relatedEvents: EventRecord[];
}

export interface VersionRef {
  id: string;
  timestamp: string;
  resourceVersion?: string;
  uid?: string;
}

export interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
  manager?: string;
}

export interface DiffAnswer {
  from: VersionRef | null;
  to: VersionRef | null;
  patch: PatchOp[];
  summary?: string;
}

export interface BlameField {
  path: string;
  id: string;
  timestamp: string;
  verb: string;
  manager?: string;
}

export interface BlameAnswer {
  version: VersionRef;
  fields: BlameField[];
}

export interface CoverageGap {
  resourceType: string;
  group: string;
  start: string;
  end: string;
  reason: string;
}

export interface CoverageAnswer {
  gaps: CoverageGap[];
  filtered: unknown[];
}

export interface ChangeEntry {
  namespace?: string;
  resourceType: string;
  resourceName: string;
  uid?: string;
  verbs: Record<string, number>;
  changeClasses: string[];
  first: string;
  last: string;
  changedPaths: string[];
  patch: PatchOp[] | null;
  events?: { Warning?: number; Normal?: number; reasons?: Record<string, number> };
}
