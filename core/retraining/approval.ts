/** Error name a rejection sends with SendTaskFailure; the retraining loop catches it and ends the run. */
export const MODEL_REJECTED_ERROR_NAME = 'ModelRejected';
