/**
 * JetStream API subjects, response type names and response shapes (nats-server 2.9 jetstream_api.go;
 * ADR-1). Responses are built as plain objects in Go's field order so that the JSON matches the
 * reference key for key.
 */
import type { ApiError } from './errors.generated.js';

export const JS_API_PREFIX = '$JS.API';
/** Every API subject; one internal subscription per JetStream-enabled account. */
export const JS_ALL_API = '$JS.API.>';
export const JS_DIRECT_GET_PREFIX = '$JS.API.DIRECT.GET';

/** `type` of each response (ApiResponse.Type). */
export const ResponseType = {
  AccountInfo: 'io.nats.jetstream.api.v1.account_info_response',
  StreamCreate: 'io.nats.jetstream.api.v1.stream_create_response',
  StreamUpdate: 'io.nats.jetstream.api.v1.stream_update_response',
  StreamDelete: 'io.nats.jetstream.api.v1.stream_delete_response',
  StreamInfo: 'io.nats.jetstream.api.v1.stream_info_response',
  StreamNames: 'io.nats.jetstream.api.v1.stream_names_response',
  StreamList: 'io.nats.jetstream.api.v1.stream_list_response',
  StreamPurge: 'io.nats.jetstream.api.v1.stream_purge_response',
  MsgDelete: 'io.nats.jetstream.api.v1.stream_msg_delete_response',
  MsgGet: 'io.nats.jetstream.api.v1.stream_msg_get_response',
  ConsumerCreate: 'io.nats.jetstream.api.v1.consumer_create_response',
  ConsumerDelete: 'io.nats.jetstream.api.v1.consumer_delete_response',
  ConsumerInfo: 'io.nats.jetstream.api.v1.consumer_info_response',
  ConsumerNames: 'io.nats.jetstream.api.v1.consumer_names_response',
  ConsumerList: 'io.nats.jetstream.api.v1.consumer_list_response',
  ConsumerLeaderStepDown: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response',
  StreamLeaderStepDown: 'io.nats.jetstream.api.v1.stream_leader_stepdown_response',
  StreamRemovePeer: 'io.nats.jetstream.api.v1.stream_remove_peer_response',
  StreamSnapshot: 'io.nats.jetstream.api.v1.stream_snapshot_response',
  StreamRestore: 'io.nats.jetstream.api.v1.stream_restore_response',
  TemplateNames: 'io.nats.jetstream.api.v1.stream_template_names_response',
  TemplateCreate: 'io.nats.jetstream.api.v1.stream_template_create_response',
  TemplateInfo: 'io.nats.jetstream.api.v1.stream_template_info_response',
  TemplateDelete: 'io.nats.jetstream.api.v1.stream_template_delete_response',
} as const;

/** nats-server's JSApiNamesLimit / JSApiListLimit / JSMaxSubjectDetails. */
export const JS_API_NAMES_LIMIT = 1024;
export const JS_API_LIST_LIMIT = 256;
export const JS_MAX_SUBJECT_DETAILS = 100_000;

/** Every response starts with these (ApiResponse). */
export interface ApiResponse {
  type: string;
  error?: ApiError;
}

/** JetStreamAccountLimits (-1 = unlimited). */
export interface JetStreamAccountLimits {
  max_memory: number;
  max_storage: number;
  max_streams: number;
  max_consumers: number;
  max_ack_pending: number;
  memory_max_stream_bytes: number;
  storage_max_stream_bytes: number;
  max_bytes_required: boolean;
}

/** StreamState as the API shows it. */
export interface StreamStateJson {
  messages: number;
  bytes: number;
  first_seq: number;
  first_ts: string;
  last_seq: number;
  last_ts: string;
  num_subjects?: number;
  subjects?: Record<string, number>;
  num_deleted?: number;
  deleted?: number[];
  consumer_count: number;
}

/** StreamInfo: config, created, state (+ domain). */
export interface StreamInfoJson {
  config: Record<string, unknown>;
  created: string;
  state: StreamStateJson;
  domain?: string;
  /** StreamSourceInfo of a mirror's origin / of each source (sourcing.ts). */
  mirror?: object;
  sources?: object[];
}

/** A message as STREAM.MSG.GET returns it (StoredMsg; headers and data base64). */
export interface StoredMsgJson {
  subject: string;
  seq: number;
  hdrs?: string;
  data?: string;
  time: string;
}

/** PubAck (success); errors are `{"error":...,"stream":"S","seq":0}`. */
export interface PubAck {
  stream: string;
  seq: number;
  domain?: string;
  duplicate?: boolean;
}
