import { choiceLabel, mermaidStateDiagram } from '../../src/docs/state-machine-diagram';

describe('Mermaid rendering of a state machine definition', () => {
  const definition = {
    StartAt: 'Lock',
    States: {
      Lock: { Type: 'Task', Next: 'Enough?', Catch: [{ ErrorEquals: ['Locked'], Next: 'Busy' }] },
      'Enough?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.count', NumericGreaterThanEquals: 100, Next: 'Train' }],
        Default: 'Skip',
      },
      Train: { Type: 'Task', Next: 'Done', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }] },
      Skip: { Type: 'Pass', End: true },
      Busy: { Type: 'Succeed' },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Fail' },
    },
  };

  test('every transition, choice labels, catches and terminal states', () => {
    expect(mermaidStateDiagram(definition).split('\n')).toEqual([
      'stateDiagram-v2',
      '  [*] --> Lock',
      '  state "Enough?" as Enough_',
      '  state Enough_ <<choice>>',
      '  Lock --> Enough_',
      '  Lock --> Busy : Locked',
      '  Enough_ --> Train : count GreaterThanEquals 100',
      '  Enough_ --> Skip : otherwise',
      '  Train --> Done',
      '  Train --> Failed : States.ALL',
      '  Skip --> [*]',
      '  Busy --> [*]',
      '  Done --> [*]',
      '  Failed --> [*]',
    ]);
  });

  test('a catch target shared by many states becomes one note', () => {
    const states: Record<string, object> = {};
    for (let i = 0; i < 5; i++)
      states[`T${i}`] = {
        Type: 'Task',
        Next: i < 4 ? `T${i + 1}` : 'Ok',
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Fail' }],
      };
    const text = mermaidStateDiagram({
      StartAt: 'T0',
      States: { ...states, Ok: { Type: 'Succeed' }, Fail: { Type: 'Fail' } },
    });
    expect(text).not.toMatch(/--> Fail :/);
    expect(text).toContain('  note right of Fail\n    every Task catches errors into Fail\n  end note');
  });

  test('JSONata conditions and compound rules get short labels', () => {
    expect(choiceLabel({ Condition: '{% $states.input.ok = true %}', Next: 'X' })).toBe('$states.input.ok = true');
    expect(choiceLabel({ And: [], Next: 'X' })).toBe('and(…)');
  });
});
