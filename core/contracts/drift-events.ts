/** Source and detail type of the event the retraining loop subscribes to. */
export const DRIFT_EVENT_SOURCE = 'ml-blueprint.drift';
export const DRIFT_DETAIL_TYPE = 'ModelDriftDetected';
