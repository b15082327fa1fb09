/**
 * DynamoDB on dynalite, a real engine: the Step Functions integration's parameters (the API's own, attribute values
 * in DynamoDB JSON) are sent as they are, so condition expressions are evaluated by the engine, not re-implemented.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TaskError } from '../errors';
import type { Json, ServiceHandlers } from '../types';

/** Errors named as the Step Functions integration reports them (`DynamoDB.<exception>`). */
async function send<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    const name = (e as Error).name;
    if (/Exception$/.test(name)) throw new TaskError(`DynamoDB.${name}`, (e as Error).message);
    throw e;
  }
}

/** The DynamoDB actions the loop uses, on a dynalite client. */
export function dynamoDbService(client: DynamoDBClient): ServiceHandlers {
  // The response without the SDK's `$metadata`, as Step Functions returns it.
  const strip = (out: object): Json => {
    const { $metadata: _metadata, ...rest } = out as Json;
    return rest;
  };
  return {
    putItem: async (i) => strip(await send(() => client.send(new PutItemCommand(i as unknown as PutItemCommandInput)))),
    deleteItem: async (i) =>
      strip(await send(() => client.send(new DeleteItemCommand(i as unknown as DeleteItemCommandInput)))),
    getItem: async (i) => strip(await send(() => client.send(new GetItemCommand(i as unknown as GetItemCommandInput)))),
    updateItem: async (i) =>
      strip(await send(() => client.send(new UpdateItemCommand(i as unknown as UpdateItemCommandInput)))),
  };
}
