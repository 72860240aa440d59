import { TextProcessorBusyError } from '../ports/text-processor';
import { ServiceError } from './errors';

/**
 * Runs a call to the text workers (TextProcessor). A full queue becomes `unavailable` (503, the
 * caller retries) with `busy` as its message; anything else passes through.
 */
export async function onTextWorkers<T>(
  run: () => Promise<T>,
  busy = 'The text workers are busy; retry shortly.',
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TextProcessorBusyError) throw new ServiceError('unavailable', busy);
    throw error;
  }
}
