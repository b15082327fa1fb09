/** The CloudWatch namespace of the review queue's metrics (EMF), shared by the handlers and the construct. */
export const REVIEW_METRICS_NAMESPACE = 'MlBlueprint/Review';
